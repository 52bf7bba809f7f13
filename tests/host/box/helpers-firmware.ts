// Real pseudo-terminal pairs (socat), a noisy wire between two of them, the
// agent as a real child process, and small signed images for the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { SerialPort } from 'serialport';
import { buildFirmware } from '../../../host/box/build-image.ts';
import { randomQModel } from '../../../models/random-qmodel.ts';
import { writeModel } from '../../../models/format.ts';
import { generateKeys, loadPrivateKey } from '../../../firmware/keys.ts';
import { prng } from '../../../models/random-model.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI } from '../../support/aunet-cli.js';
import { closeSerial, openSerial } from '../../../firmware/serial.ts';


export interface PtyPair {
  a: string;
  b: string;
  close(): void;
}

export async function ptyPair(dir: string, name: string): Promise<PtyPair> {
  const a = join(dir, `${name}-a`);
  const b = join(dir, `${name}-b`);
  const proc = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++) await sleep(20);
  if (!existsSync(a) || !existsSync(b)) throw new Error('socat did not create the pty pair (is socat installed?)');
  return { a, b, close: () => proc.kill('SIGKILL') };
}

/** Forward bytes between two ports, flipping bits and dropping chunks at the given rates. */
export async function noisyWire(x: string, y: string, opts: { flip: number; drop: number; seed: number }) {
  const [px, py] = await Promise.all([openSerial(x), openSerial(y)]);
  const r = prng(opts.seed);
  const stats = { flipped: 0, dropped: 0, bytes: 0 };
  const forward = (from: SerialPort, to: SerialPort) =>
    from.on('data', (chunk: Buffer) => {
      stats.bytes += chunk.length;
      if (r() < opts.drop) {
        stats.dropped++;
        return;
      }
      const out = Buffer.from(chunk);
      for (let i = 0; i < out.length; i++) {
        if (r() < opts.flip) {
          out[i] ^= 1 << Math.floor(r() * 8);
          stats.flipped++;
        }
      }
      to.write(out);
    });
  forward(px, py);
  forward(py, px);
  return { stats, close: () => Promise.all([px, py].map(closeSerial)) };
}

export interface AgentProc {
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
  /** the JSON log lines of the agent and its pipeline so far */
  lines(): Record<string, unknown>[];
}

/**
 * The agent as a real process, leading its own process group (so a power
 * cut, AUNET_FAULT or stopAgent, takes its pipeline child with it); resolves
 * once it serves the port. Test defaults: a trial confirms after 1 s healthy.
 */
export async function startAgent(port: string, root: string, pubkey: string, env: Record<string, string> = {}, extra: string[] = []): Promise<AgentProc> {
  const child = spawn(process.execPath, [CLI, 'device', 'agent', '--port', port, '--root', root, '--pubkey', pubkey, '--healthy-for', '1', ...extra], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  const log: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = new Promise<boolean>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      log.push(d.toString());
      if (/agent ready/.test(d.toString())) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  const lines = () =>
    log.join('').split('\n').flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  if (!(await ready)) throw new Error(`the agent exited before it was ready:\n${log.join('')}`);
  return { child, log, exited, lines };
}

/** Power off: SIGKILL to the agent and its pipeline at once. */
export async function stopAgent(a: AgentProc): Promise<void> {
  if (a.child.pid !== undefined) {
    try {
      process.kill(-a.child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await a.exited;
}

/** A box root holding its per-box settings (docs/box.md): device id, embedded broker on the given ports. */
export function boxRoot(dir: string, name: string, settings: Record<string, unknown>): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'settings.yaml'), JSON.stringify(settings));
  return root;
}

/** A scratch folder with a fresh Ed25519 key pair, where a test builds, flashes and keeps images. */
export function firmwareWorkspace(prefix: string): { dir: string; publicKey: string; key: KeyObject } {
  const dir = mkdtempSync(join(tmpdir(), `aunet-${prefix}-`));
  const keys = generateKeys(join(dir, 'keys'));
  return { dir, publicKey: keys.publicPath, key: loadPrivateKey(keys.privatePath) };
}

/** A signed image around a tiny random model (16x16, F=1) so self-tests run in milliseconds. */
export async function makeImage(
  dir: string,
  key: KeyObject,
  version: string,
  securityCounter: number,
  opts: { hardwareId?: string; modelSeed?: number; padding?: number; config?: Record<string, unknown>; name?: string; monitorFrom?: string } = {},
): Promise<string> {
  const { hardwareId = 'aunet-edge-1', modelSeed = 1, padding = 120_000 } = opts;
  const modelPath = join(dir, `model-${modelSeed}.aunet`);
  if (!existsSync(modelPath)) writeModel(modelPath, randomQModel({ filters: 1, height: 16, width: 16, channels: 1 }, { seed: modelSeed }));
  // A padding file in the monitor bundle makes the image span many chunks, so transfers have something to interrupt.
  // The monitor bundle: a stub page, or a copy of a real one (monitorFrom); version.txt tells which image's bundle is served.
  const monitorDir = join(dir, `monitor-${opts.name ?? version}`);
  if (opts.monitorFrom) cpSync(opts.monitorFrom, monitorDir, { recursive: true });
  mkdirSync(monitorDir, { recursive: true });
  if (!opts.monitorFrom) writeFileSync(join(monitorDir, 'index.html'), '<!doctype html><title>test</title>');
  writeFileSync(join(monitorDir, 'version.txt'), version);
  writeFileSync(join(monitorDir, 'padding.bin'), Buffer.alloc(padding, 0x5a));
  const config = join(dir, `config-${version}.json`);
  // a slow phantom and the direct engine: the box tests watch frames, not throughput
  writeFileSync(config, JSON.stringify(opts.config ?? { source: 'phantom:?size=64x48&fps=5&frames=0&seed=3', engine: 'direct', pipeline: { warmupFrames: 2 } }));
  const image = await buildFirmware({ privateKey: key, version, securityCounter, hardwareId, model: modelPath, config, monitorDir });
  const out = join(dir, `fw-${opts.name ?? version}-${hardwareId}.aufw`);
  writeFileSync(out, image);
  return out;
}

