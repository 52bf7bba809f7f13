// Model and engine for the live pipeline. The engine is the chip-model
// controller (createEngine(model, {engine: 'chip'})); if that cannot start and
// fallback is allowed, the direct executor runs instead and the fallback is
// made visible (a warning, the status reason, state degraded).
// `random:F8x128x1` names a random-weight model (models/random-qmodel.ts) for
// tests and for demos before a trained model exists: clearly labelled as such.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { QModel } from '../../models/qmodel.js';
import type { Engine } from '../engine/engine.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { AunetError, FileError, UsageError } from '../../common/errors.js';

export interface LoadedModel {
  model: QModel;
  name: string;
  /** hex SHA-256 of the file as stored, or 'random' */
  sha256: string;
  file: string | null;
}

export const RANDOM_MODEL = /^random:F(\d+)x(\d+)(?:x(\d+))?(?:x(1|3))?(?:@(\d+))?$/;

/** Read a .aunet file, or build a random model from `random:F<filters>x<size>[x<size>][x<channels>][@seed]`. */
export async function loadModel(spec: string): Promise<LoadedModel> {
  const m = RANDOM_MODEL.exec(spec);
  if (m) {
    const [filters, height] = [Number(m[1]), Number(m[2])];
    const width = m[3] ? Number(m[3]) : height;
    const { randomQModel } = await import('../../models/random-qmodel.js');
    const model = randomQModel({ filters, height, width, channels: m[4] ? Number(m[4]) : 1 }, { seed: m[5] ? Number(m[5]) : 1 });
    return { model, name: `random-F${filters}-${height}x${width} (random weights, demo only)`, sha256: 'random', file: null };
  }
  if (spec.startsWith('random:')) throw new UsageError(`model '${spec}': write a random model as random:F8x128 (filters, size[, width][, channels][@seed])`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(spec);
  } catch (e) {
    throw new FileError(spec, `cannot read model: ${(e as Error).message}`, 'NO_FILE');
  }
  const { decodeModelWithInfo } = await import('../../models/format.js');
  const { model } = decodeModelWithInfo(bytes, spec);
  const metaName = model.meta && typeof model.meta.name === 'string' ? model.meta.name : null;
  return { model, name: metaName ?? basename(spec).replace(/\.aunet$/, ''), sha256: createHash('sha256').update(bytes).digest('hex'), file: spec };
}

export function modelExists(spec: string): boolean {
  return RANDOM_MODEL.test(spec) || existsSync(spec);
}

export interface EngineChoice {
  engine: Engine;
  kind: 'chip' | 'direct';
  /** chip preset when kind is chip */
  preset: string | null;
  /** why the chip engine is not running although it was asked for */
  fallback: string | null;
}

export interface EngineRequest {
  engine: 'chip' | 'direct';
  preset: string;
  sramBytes?: number;
  fallbackToDirect: boolean;
  /** kernels to use (default: the best WASM build); a function so each engine gets its own heap */
  kernels?: () => KernelSet | Promise<KernelSet>;
}

export async function createPipelineEngine(model: QModel, req: EngineRequest): Promise<EngineChoice> {
  const { createEngine } = await import('./create-engine.js');
  const kernels = req.kernels ? await req.kernels() : undefined;
  if (req.engine === 'direct') return { engine: await createEngine(model, { engine: 'direct', kernels }), kind: 'direct', preset: null, fallback: null };
  try {
    const engine = await createEngine(model, { engine: 'chip', kernels, chip: req.preset, sramBytes: req.sramBytes });
    return { engine, kind: 'chip', preset: req.preset, fallback: null };
  } catch (e) {
    // a bad preset or SRAM size is the user's to fix, not a reason to fall back
    if (!req.fallbackToDirect || e instanceof AunetError) throw e;
    const why = `chip engine unavailable (${(e as Error).message}); running the direct executor instead`;
    const fresh = req.kernels ? await req.kernels() : undefined;
    return { engine: await createEngine(model, { engine: 'direct', kernels: fresh }), kind: 'direct', preset: null, fallback: why };
  }
}
