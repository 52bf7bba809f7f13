// The one way the product opens an inference engine for a loaded model: the
// direct whole-layer executor or the chip model's engine, on the WebAssembly
// kernels (the best build this Node offers) or the TypeScript reference
// kernels. Every command, the live service, the evaluation and the replay path
// call loadEngine; what differs between them is a request field, never a copy.
import type { QModel } from '../../models/qmodel.js';
import type { Engine } from '../engine/engine.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import type { ThreadedKernelSet } from '../kernels/threaded-kernels.js';
import type { ChipConfig } from '../chip/chip-config.js';
import { AunetError, UsageError } from '../../common/errors.js';
import { defaultThreads, MAX_THREADS } from '../../common/thread-count.js';

export type EngineKind = 'chip' | 'direct';
export const ENGINE_KINDS: readonly EngineKind[] = ['chip', 'direct'];
export type KernelsName = 'wasm' | 'reference';
export const KERNELS_NAMES: readonly KernelsName[] = ['wasm', 'reference'];

export interface EngineRequest {
  /** default 'direct'; a string from a flag or config is checked here */
  engine?: EngineKind | string;
  /**
   * 'wasm' (default: a fresh instance of the best WebAssembly build, so each
   * engine owns its heap), 'reference' (the TypeScript integer kernels: slow,
   * for checking), a kernel set, or a function making one per engine
   */
  kernels?: KernelsName | string | KernelSet | (() => KernelSet | Promise<KernelSet>);
  /**
   * kernel threads, this one included, for the 'wasm' kernels: above 1 the threaded build
   * (host/kernels/threaded-kernels.ts) divides each layer over a pool of workers. Default:
   * AUNET_THREADS, else one per core (defaultThreads()). Other kernels run on one thread;
   * asking them for more is a usage error.
   */
  threads?: number;
  /** chip engine: a config object or a preset name (default: the 'default' preset) */
  chip?: ChipConfig | string;
  /** chip engine: override the config's SRAM size */
  sramBytes?: number;
  /** direct engine: keep every tensor readable after a run (Engine.tensor) */
  keepTensors?: boolean;
  /** the chip engine cannot start (not a problem of the user's config): run the direct executor and say why */
  fallbackToDirect?: boolean;
  /** the WebAssembly kernels are not built: run the reference kernels (same bits, slower) and say so */
  referenceIfNoWasm?: boolean;
  /** how the flags are called in messages (default --engine, --kernels, --threads) */
  flags?: { engine?: string; kernels?: string; threads?: string };
}

export interface LoadedEngine {
  engine: Engine;
  kind: EngineKind;
  /** chip preset when kind is chip (or the config's name), else null */
  preset: string | null;
  /** why the chip engine is not running although it was asked for */
  fallback: string | null;
  /** what the user should know about the kernels (e.g. the reference kernels stand in) */
  note: string | null;
  /** threads that run kernels (1 unless the threaded build runs, started here or passed in) */
  threads: number;
  /** the OS thread ids of the kernel threads other than the caller's (Linux; empty where the OS does not say or none run) */
  threadIds: readonly number[];
  /** stop the kernel threads this loader started (none for kernels the caller passed); the engine must not run afterwards */
  close(): Promise<void>;
}

export async function loadEngine(model: QModel, req: EngineRequest = {}): Promise<LoadedEngine> {
  const kind = req.engine ?? 'direct';
  const engineFlag = req.flags?.engine ?? '--engine';
  if (!(ENGINE_KINDS as readonly string[]).includes(kind)) throw new UsageError(`${engineFlag}: unknown engine '${kind}' (engines: ${ENGINE_KINDS.join(', ')})`);
  if (req.keepTensors && kind !== 'direct') throw new UsageError(`per-tensor outputs need ${engineFlag} direct`);
  const kernelsFlag = req.flags?.kernels ?? '--kernels';
  if (typeof req.kernels === 'string' && !(KERNELS_NAMES as readonly string[]).includes(req.kernels)) {
    throw new UsageError(`${kernelsFlag}: unknown kernels '${req.kernels}' (kernels: ${KERNELS_NAMES.join(', ')})`);
  }
  const threadsFlag = req.flags?.threads ?? '--threads';
  if (req.threads !== undefined && (!Number.isInteger(req.threads) || req.threads < 1 || req.threads > MAX_THREADS)) {
    throw new UsageError(`must be an integer 1..${MAX_THREADS}, not ${req.threads}`, 'USAGE', { subject: threadsFlag });
  }
  const wasm = (req.kernels ?? 'wasm') === 'wasm';
  if (!wasm && req.threads !== undefined && req.threads > 1) {
    throw new UsageError(`${req.threads} threads need the WebAssembly kernels; other kernels run on one thread`, 'USAGE', { subject: threadsFlag, hint: `pass ${kernelsFlag} wasm, or ${threadsFlag} 1` });
  }
  let note: string | null = null;
  let close = async (): Promise<void> => {};
  const kernels = async (): Promise<KernelSet> => {
    const k = req.kernels ?? 'wasm';
    if (typeof k === 'function') return k();
    if (typeof k === 'object') return k;
    if (k === 'wasm') {
      try {
        const n = req.threads ?? defaultThreads();
        if (n > 1) {
          const { createThreadedKernels } = await import('../kernels/threaded-kernels.js');
          const set = await createThreadedKernels({ threads: n });
          close = () => set.close();
          return set;
        }
        const { createWasmKernels } = await import('../kernels/wasm-kernels.js');
        return createWasmKernels();
      } catch (e) {
        if (!req.referenceIfNoWasm || e instanceof AunetError) throw e;
        note = `WebAssembly kernels unavailable (${(e as Error).message.split('\n')[0]}); using the TypeScript reference kernels`;
      }
    }
    const { createReferenceKernels } = await import('../kernels/reference/index.js');
    return createReferenceKernels();
  };
  // one kernel set for the engine, and for the direct executor should the chip engine not start
  const ks = await kernels();
  // a threaded set, made here or by the caller (a box image's runtime module), says its threads and their OS ids
  const threadedSet = 'spread' in ks ? (ks as ThreadedKernelSet) : null;
  const threads = threadedSet?.threads ?? 1;
  const threadIds = threadedSet?.threadIds ?? [];
  const loaded = (engine: Engine, k: EngineKind, preset: string | null, fallback: string | null): LoadedEngine =>
    ({ engine, kind: k, preset, fallback, note, threads, threadIds, close: () => close() });
  const direct = async (): Promise<Engine> => {
    const { createDirectEngine } = await import('../engine/direct-executor.js');
    return createDirectEngine(model, ks, { keepTensors: req.keepTensors });
  };
  try {
    if (kind === 'direct') return loaded(await direct(), kind, null, null);
    const preset = typeof req.chip === 'object' ? req.chip.name : (req.chip ?? 'default');
    try {
      const { createChipEngine } = await import('../chip/chip-engine.js');
      return loaded(createChipEngine(model, ks, { chip: req.chip, sramBytes: req.sramBytes }), 'chip', preset, null);
    } catch (e) {
      // a bad preset or SRAM size is the user's to fix, not a reason to fall back
      if (!req.fallbackToDirect || e instanceof AunetError) throw e;
      const why = `chip engine unavailable (${(e as Error).message}); running the direct executor instead`;
      return loaded(await direct(), 'direct', null, why);
    }
  } catch (e) {
    await close();
    throw e;
  }
}
