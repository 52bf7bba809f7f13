// The side-by-side peers: the same network run by onnxruntime in this process, as float32
// (our float model written by models/onnx/export.ts) and as int8 (the same model in the QDQ
// format, models/onnx/qdq.ts: per-channel int8 weights and per-tensor uint8 activations from
// our quantizer's calibration, which onnxruntime fuses into QLinearConv and friends).
// onnxruntime-web: its WebAssembly backend (SIMD; numThreads threads, proxy off), in a child
// process per thread count because it fixes its thread count once per process;
// onnxruntime-node: its native CPU provider (intraOpNumThreads threads), one session per thread
// count in this process, their frames alternated, so that its gain from threads compares the same
// minutes of a shared host, as ours does. Frames go in as pixel / 255, NCHW, like the study's
// preprocessing.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Arch } from '../../models/graph.js';
import type { FloatModel } from '../../models/float-model.js';
import type { QModel } from '../../models/qmodel.js';
import { median, quantile } from './network.js';

export const PEERS = ['onnxruntime-web', 'onnxruntime-node'] as const;
export type Peer = (typeof PEERS)[number];
export type PeerPrecision = 'float32' | 'int8';

export interface PeerTiming {
  peer: Peer;
  precision: PeerPrecision;
  threads: number;
  /** e.g. 'onnxruntime-web 1.30.0 (wasm, 1 thread, int8 QDQ, simd)' */
  runtime: string;
  frames: number;
  msPerFrame: number;
  p90Ms: number;
  /** the fastest frame */
  minMs: number;
  gmacPerSec: number;
  /** CPU time of this process per frame (all of onnxruntime's threads) */
  cpuMsPerFrame: number;
  /** bytes of the ONNX model */
  onnxBytes: number;
  /** the thread counts whose frames were alternated with these (onnxruntime-node), this one included */
  timedWith?: number[];
}

interface Session {
  run(x: Float32Array, dims: number[]): Promise<void>;
  release(): Promise<void>;
  version: string;
}

/** ms between two alternated sessions' runs: onnxruntime's intra-op threads spin on after a run (with 10, the 1-thread session's CPU time read twice its wall time) */
const SETTLE_MS = 50;

/** onnxruntime-web fixes its thread count when its WebAssembly starts: once per process. */
let webThreads: number | null = null;
/** Set in the child process timePeer starts for onnxruntime-web. */
const CHILD_ENV = 'AUNET_PEER_CHILD';

async function open(peer: Peer, bytes: Uint8Array, threads: number): Promise<Session> {
  if (peer === 'onnxruntime-web') {
    const ort = await import('onnxruntime-web');
    if (webThreads !== null && webThreads !== threads) {
      throw new Error(`onnxruntime-web already runs with ${webThreads} thread(s) in this process; time ${threads} in another process`);
    }
    webThreads = threads;
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const name = s.inputNames[0];
    return {
      version: ort.env.versions.web ?? ort.env.versions.common,
      async run(x, dims) {
        const out = await s.run({ [name]: new ort.Tensor('float32', x, dims) });
        for (const t of Object.values(out)) t.dispose();
      },
      release: () => s.release(),
    };
  }
  const ort = await import('onnxruntime-node');
  ort.env.logLevel = 'error';
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const name = s.inputNames[0];
  return {
    version: ort.env.versions.node ?? ort.env.versions.common,
    async run(x, dims) { await s.run({ [name]: new ort.Tensor('float32', x, dims) }); },
    release: () => s.release(),
  };
}

/** The ONNX model a peer runs at `precision`. */
export async function peerModel(precision: PeerPrecision, float: FloatModel, quantized: QModel): Promise<Uint8Array> {
  if (precision === 'float32') return (await import('../../models/onnx/export.js')).exportOnnx(float);
  return (await import('../../models/onnx/qdq.js')).exportQdqOnnx(float, quantized);
}

/**
 * Time per frame of `model` in `peer` at each of `threads`. onnxruntime-web runs in a child
 * process per thread count (a fresh one per call, so any thread count can follow any other);
 * onnxruntime-node here, all thread counts at once with their frames alternated.
 */
export async function timePeer(
  peer: Peer, precision: PeerPrecision, threads: readonly number[], model: Uint8Array, arch: Arch,
  frames: Uint8Array[], n: number, macs: number, warmup = 3, onFrame?: (i: number) => void,
): Promise<PeerTiming[]> {
  if (peer === 'onnxruntime-web' && !process.env[CHILD_ENV]) {
    const out: PeerTiming[] = [];
    for (const t of threads) out.push(await inChild({ peer, precision, threads: t, arch, n, macs, warmup }, model, frames));
    return out;
  }
  return timeHere(peer, precision, threads, model, arch, frames, n, macs, warmup, onFrame);
}

interface ChildJob { peer: Peer; precision: PeerPrecision; threads: number; arch: Arch; n: number; macs: number; warmup: number }

async function inChild(job: ChildJob, model: Uint8Array, frames: Uint8Array[]): Promise<PeerTiming> {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const dir = mkdtempSync(join(tmpdir(), 'aunet-peer-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), model);
    writeFileSync(join(dir, 'frames.bin'), Buffer.concat(frames));
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ ...job, frames: frames.length }));
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./peer-child.ts', import.meta.url)), dir],
      { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, [CHILD_ENV]: '1' } });
    return JSON.parse(out) as PeerTiming;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child's side: the job in `dir` (written by inChild), timed in this process. */
export async function runChildJob(dir: string): Promise<PeerTiming> {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const job = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as ChildJob & { frames: number };
  const all = readFileSync(join(dir, 'frames.bin'));
  const size = all.length / job.frames;
  const frames = Array.from({ length: job.frames }, (_, i) => new Uint8Array(all.subarray(i * size, (i + 1) * size)));
  const [timing] = await timeHere(job.peer, job.precision, [job.threads], new Uint8Array(readFileSync(join(dir, 'model.onnx'))), job.arch, frames, job.n, job.macs, job.warmup);
  return timing;
}

async function timeHere(
  peer: Peer, precision: PeerPrecision, threads: readonly number[], model: Uint8Array, arch: Arch,
  frames: Uint8Array[], n: number, macs: number, warmup: number, onFrame?: (i: number) => void,
): Promise<PeerTiming[]> {
  const sessions: Session[] = [];
  try {
    for (const t of threads) sessions.push(await open(peer, model, t));
    const { height: H, width: W, channels: C } = arch;
    const dims = [1, C, H, W];
    const inputs = frames.map((f) => toFloat(f, arch));
    for (const session of sessions) for (let i = 0; i < warmup; i++) await session.run(inputs[i % inputs.length], dims);
    const ms = sessions.map((): number[] => []);
    const cpuMs = sessions.map(() => 0);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < sessions.length; k++) {
        // the session before spins its threads for a while after its run: let them stop, or their
        // CPU would count as this one's (and take a core from it)
        if (sessions.length > 1) await sleep(SETTLE_MS);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await sessions[k].run(inputs[i % inputs.length], dims);
        ms[k].push(performance.now() - t0);
        const cpu = process.cpuUsage(cpu0);
        cpuMs[k] += (cpu.user + cpu.system) / 1000;
      }
      onFrame?.(i + 1);
    }
    const how = peer === 'onnxruntime-web' ? 'wasm' : 'native cpu';
    return threads.map((t, k) => {
      const med = median(ms[k]);
      return {
        peer, precision, threads: t,
        runtime: `${peer} ${sessions[k].version} (${how}, ${t} thread${t === 1 ? '' : 's'}, ${precision === 'int8' ? 'int8 QDQ' : 'float32'}${peer === 'onnxruntime-web' ? ', simd' : ''})`,
        frames: n, msPerFrame: med, p90Ms: quantile(ms[k], 0.9), minMs: Math.min(...ms[k]), gmacPerSec: macs / (med * 1e6), cpuMsPerFrame: cpuMs[k] / n, onnxBytes: model.length,
        ...(threads.length > 1 ? { timedWith: [...threads] } : {}),
      };
    });
  } finally {
    for (const s of sessions) await s.release();
  }
}

/** pixel / 255 as NCHW float32 */
function toFloat(frame: Uint8Array, arch: Arch): Float32Array {
  const { height: H, width: W, channels: C } = arch;
  const out = new Float32Array(H * W * C);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) out[c * H * W + p] = frame[p * C + c] / 255;
  return out;
}
