// Building an image from the project's artefacts: the plain-SIMD runtime
// module (it loads on every engine), a model, a device configuration and the
// monitor bundle; the self-test hash is computed here, at build time.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { KeyObject } from 'node:crypto';
import { DEFAULT_MODEL, PACKAGE_ROOT, packageFile, packageVersion } from '../../common/package-root.js';
import { FileError } from '../../common/errors.js';
import { readConfigFile, resolveConfig } from '../../contracts/run-config.js';
import { packDirectory } from '../../firmware/bundle.js';
import { assembleImage } from '../../firmware/image.js';
import { GOLDEN_FRAME, selfTestHash } from './self-test.js';

export const DEFAULT_HARDWARE_ID = 'aunet-edge-1';
export const DEFAULT_RUNTIME = packageFile('build/kernels.simd.wasm');
export const DEFAULT_MONITOR = packageFile('monitor/dist');

export interface BuildOptions {
  privateKey: KeyObject;
  version: string;
  securityCounter?: number;
  hardwareId?: string;
  model?: string;
  config?: string;
  runtime?: string;
  monitorDir?: string;
}

export async function buildFirmware(opts: BuildOptions): Promise<Uint8Array> {
  if (!/^\d+\.\d+\.\d+$/.test(opts.version)) throw new FileError('--version', `"${opts.version}" is not MAJOR.MINOR.PATCH`, 'BAD_VERSION');
  const runtime = readInput(opts.runtime ?? DEFAULT_RUNTIME, 'runtime module (run `npm run build:wasm` first)');
  const modelFile = opts.model ?? packageFile(DEFAULT_MODEL);
  const model = readInput(modelFile, 'model');
  const config = opts.config ? readConfig(opts.config) : Buffer.from('{}\n');
  const monitor = await packDirectory(opts.monitorDir ?? DEFAULT_MONITOR);
  let outputSha256: string;
  try {
    outputSha256 = await selfTestHash(runtime, model);
  } catch (e) {
    throw new FileError(modelFile, `self-test inference failed at build time: ${(e as Error).message}`, 'SELF_TEST');
  }
  return assembleImage(
    {
      version: opts.version,
      securityCounter: opts.securityCounter ?? 0,
      hardwareId: opts.hardwareId ?? DEFAULT_HARDWARE_ID,
      build: { date: new Date().toISOString(), tool: `aunet-edge ${packageVersion()}`, host: hostname(), commit: gitCommit() },
      sections: { runtime, model, config, monitor },
      selfTest: { frame: GOLDEN_FRAME, outputSha256 },
    },
    opts.privateKey,
  );
}

function readInput(file: string, what: string): Uint8Array {
  if (!existsSync(file)) throw new FileError(file, `${what} not found`, 'NO_FILE');
  return readFileSync(file);
}

/** Device configuration (the `aunet run` config, JSON or YAML): validated now, stored as JSON. */
function readConfig(file: string): Uint8Array {
  const value = readConfigFile(file);
  resolveConfig(value, {}, file);
  return Buffer.from(JSON.stringify(value, null, 2));
}


function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}
