// Building an image from the project's artefacts: the runtime builds (each
// kernel module checked for the imports its build may have), a model, a device
// configuration (the `aunet run` schema, without per-box settings) and the
// monitor bundle; the self-test hash is computed here, at build time, with
// every build this machine can run, and they must agree (the builds are
// bit-exact by contract). Nothing about the building machine is recorded
// unless asked (--record-host).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { KeyObject } from 'node:crypto';
import { DEFAULT_MODEL, PACKAGE_ROOT, packageFile, packageVersion } from '../../common/package-root.js';
import { FileError, UsageError } from '../../common/errors.js';
import { readInputFile, readInputText } from '../../common/input-file.js';
import { readConfigFile, resolveConfig } from '../../contracts/run-config.js';
import { imageConfigProblems } from '../../contracts/box-settings.js';
import { packDirectory } from '../../firmware/bundle.js';
import { assembleImage, RUNTIME_BUILDS, type RuntimeBuild } from '../../firmware/image.js';
import { GOLDEN_FRAME, selfTestHash } from './self-test.js';
import { runnableBuilds, supportedNeeds } from './runtime-choice.js';
import { missingKernels } from '../kernels/wasm-kernels.js';

export const DEFAULT_HARDWARE_ID = 'aunet-edge-1';
export const DEFAULT_MONITOR = packageFile('monitor/dist');
/** Builds an image carries when --runtime is not given: each one present in build/ (simd must be). */
export const DEFAULT_BUILDS: readonly RuntimeBuild[] = ['simd', 'threads'];
export const runtimeFile = (build: RuntimeBuild): string => packageFile(`build/kernels.${build}.wasm`);

export interface BuildOptions {
  privateKey: KeyObject;
  version: string;
  securityCounter: number;
  hardwareId?: string;
  model?: string;
  config?: string;
  /** runtime builds and their files, in order of preference (default: DEFAULT_BUILDS found in build/) */
  runtimes?: { build: RuntimeBuild; file: string }[];
  monitorDir?: string;
  /** record this machine's host name in the manifest */
  recordHost?: boolean;
  /** signed permission to replace a newer version at the same security counter */
  allowDowngrade?: boolean;
  /** a JSON file (an SBOM) stored in the manifest */
  sbom?: string;
}

export async function buildFirmware(opts: BuildOptions): Promise<Uint8Array> {
  if (!/^\d+\.\d+\.\d+$/.test(opts.version)) throw new FileError('--version', `"${opts.version}" is not MAJOR.MINOR.PATCH`, 'BAD_VERSION');
  if (!Number.isInteger(opts.securityCounter) || opts.securityCounter < 0) throw new UsageError('--security-counter: a non-negative integer is required (docs/firmware-format.md, "Security counter")');
  const runtimes = (opts.runtimes ?? defaultRuntimes()).map((r) => ({ build: r.build, file: r.file, bytes: readRuntime(r.build, r.file) }));
  if (!runtimes.some((r) => r.build === 'simd')) throw new UsageError('--runtime: every image carries the simd build (the one every box runs); add --runtime simd=FILE');
  const modelFile = opts.model ?? packageFile(DEFAULT_MODEL);
  const model = readInputFile(modelFile, 'model');
  const config = opts.config ? readConfig(opts.config) : Buffer.from('{}\n');
  const monitor = await packDirectory(opts.monitorDir ?? DEFAULT_MONITOR);
  const outputSha256 = await buildSelfTest(runtimes, model, modelFile);
  return assembleImage(
    {
      version: opts.version,
      securityCounter: opts.securityCounter,
      hardwareId: opts.hardwareId ?? DEFAULT_HARDWARE_ID,
      build: { date: new Date().toISOString(), tool: `aunet-edge ${packageVersion()}`, ...(opts.recordHost ? { host: hostname() } : {}), commit: gitCommit() },
      runtimes: runtimes.map((r) => ({ build: r.build, bytes: r.bytes })),
      model,
      config,
      monitor,
      selfTest: { frame: GOLDEN_FRAME, outputSha256 },
      allowDowngrade: opts.allowDowngrade,
      sbom: opts.sbom ? readSbom(opts.sbom) : undefined,
    },
    opts.privateKey,
  );
}

/** `--runtime [BUILD=]FILE` (BUILD defaults to simd). */
export function parseRuntimeFlag(value: string): { build: RuntimeBuild; file: string } {
  const m = /^([a-z]+)=(.+)$/.exec(value);
  const build = m ? m[1] : 'simd';
  if (!Object.hasOwn(RUNTIME_BUILDS, build)) throw new UsageError(`--runtime ${value}: unknown build '${build}' (builds: ${Object.keys(RUNTIME_BUILDS).join(', ')})`);
  return { build: build as RuntimeBuild, file: m ? m[2] : value };
}

function defaultRuntimes(): { build: RuntimeBuild; file: string }[] {
  const found = DEFAULT_BUILDS.filter((b) => existsSync(runtimeFile(b)));
  if (!found.includes('simd')) throw new FileError(runtimeFile('simd'), 'runtime module not found (run `npm run build:wasm` first, or pass --runtime)', 'NO_FILE');
  return found.map((build) => ({ build, file: runtimeFile(build) }));
}

/** A kernel module of a build: it must compile, and import nothing unless its build imports a shared memory. */
function readRuntime(build: RuntimeBuild, file: string): Uint8Array {
  const bytes = readInputFile(file, `runtime module (${build} build)`);
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(new Uint8Array(bytes));
  } catch (e) {
    throw new FileError(file, `not a WebAssembly module this Node can compile: ${(e as Error).message}`, 'BAD_FILE');
  }
  const imports = WebAssembly.Module.imports(module);
  const shared = imports.length === 1 && imports[0].kind === 'memory';
  if (build === 'threads' ? !shared : imports.length > 0) {
    const has = imports.map((i) => `${i.module}.${i.name} (${i.kind})`).join(', ') || 'nothing';
    throw new FileError(file, `is not a ${build} build: it imports ${has}; ${build === 'threads' ? 'the threads build imports exactly one (shared) memory' : 'a single-thread build imports nothing'}`, 'BAD_FILE');
  }
  const missing = missingKernels(module);
  if (missing.length) throw new FileError(file, `a kernel module of older sources than this software: it lacks ${missing.join(', ')} (rebuild it with npm run build:wasm)`, 'BAD_FILE');
  return bytes;
}

/** The golden-frame hash, the same from every build this machine can run. */
async function buildSelfTest(runtimes: { build: RuntimeBuild; file: string; bytes: Uint8Array }[], model: Uint8Array, modelFile: string): Promise<string> {
  // every build this Node can execute, the threaded one included (run on one thread here)
  const runnable = runnableBuilds(new Set([...supportedNeeds(), 'worker-threads']));
  let first: { build: RuntimeBuild; hash: string } | null = null;
  for (const r of runtimes) {
    const build = runnable.find((b) => b === r.build);
    if (!build) continue;
    let hash: string;
    try {
      hash = await selfTestHash(r.bytes, model, build);
    } catch (e) {
      throw new FileError(modelFile, `self-test inference with the ${r.build} runtime (${r.file}) failed at build time: ${(e as Error).message}`, 'SELF_TEST');
    }
    if (first && hash !== first.hash) throw new FileError(r.file, `the ${r.build} build gives golden-frame hash ${hash.slice(0, 12)}, the ${first.build} build ${first.hash.slice(0, 12)}: the builds are not bit-exact`, 'SELF_TEST');
    first ??= { build: r.build, hash };
  }
  return first!.hash;
}

/** Device configuration (the `aunet run` config, JSON or YAML): validated now, stored as JSON. */
function readConfig(file: string): Uint8Array {
  const value = readConfigFile(file);
  const problems = imageConfigProblems(value);
  if (problems.length) throw new FileError(file, `not an image configuration: ${problems.join('; ')}`, 'BAD_CONFIG', { hint: 'per-box settings go in each box\'s settings.yaml (docs/box.md), not in the image' });
  resolveConfig(value, {}, file);
  return Buffer.from(JSON.stringify(value, null, 2));
}

function readSbom(file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readInputText(file, 'SBOM (JSON)'));
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError(file, `not valid JSON: ${(e as Error).message}`, 'BAD_FILE');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FileError(file, 'an SBOM must be a JSON object (CycloneDX or SPDX JSON)', 'BAD_FILE');
  return value as Record<string, unknown>;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}
