// The one way the product loads an int8 model: every command, the live
// service, the evaluation and the replay path call loadModel. A spec is
//  - DEFAULT_MODEL ('models/busi-lite.aunet'): the shipped model, found in the
//    package wherever aunet is started from;
//  - a .aunet file (read and fully validated by models/format.ts);
//  - `random:F8x128[x<width>][x<channels>][@seed]`: random weights
//    (models/random-qmodel.ts) for tests and demos, labelled as such.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { QModel } from '../../models/qmodel.js';
import { decodeModelWithInfo, readModelWithInfo } from '../../models/format.js';
import { FileError, UsageError } from '../../common/errors.js';
import { DEFAULT_MODEL, packageFile } from '../../common/package-root.js';

export interface LoadedModel {
  model: QModel;
  /** the header's meta.name, else the file name without .aunet */
  name: string;
  /** hex SHA-256 of the file as stored, or 'random' */
  sha256: string;
  /** the file read, or null for a random model */
  file: string | null;
}

const RANDOM_MODEL = /^random:F(\d+)x(\d+)(?:x(\d+))?(?:x(1|3))?(?:@(\d+))?$/;

/** A random model the shipped model's size, for demos whose masks mean nothing. */
export const RANDOM_DEMO_MODEL = 'random:F8x128';

/** The file a model spec names: the shipped model resolves in the package, anything else as given. */
export function modelFile(spec: string): string {
  return spec === DEFAULT_MODEL ? packageFile(DEFAULT_MODEL) : spec;
}

/** Whether the shipped model is part of this checkout (a fresh clone without LFS may lack it). */
export function shippedModelPresent(): boolean {
  return existsSync(packageFile(DEFAULT_MODEL));
}

/** Read a model spec (see the header); errors name the file and the problem. */
export async function loadModel(spec: string): Promise<LoadedModel> {
  const m = RANDOM_MODEL.exec(spec);
  if (m) {
    const [filters, height] = [Number(m[1]), Number(m[2])];
    const width = m[3] ? Number(m[3]) : height;
    const { randomQModel } = await import('../../models/random-qmodel.js');
    const model = randomQModel({ filters, height, width, channels: m[4] ? Number(m[4]) : 1 }, { seed: m[5] ? Number(m[5]) : 1 });
    return { model, name: `random-F${filters}-${height}x${width} (random weights, demo only)`, sha256: 'random', file: null };
  }
  if (spec.startsWith('random:')) throw new UsageError(`model '${spec}': write a random model as ${RANDOM_DEMO_MODEL} (filters, size[, width][, channels][@seed])`);
  const file = modelFile(spec);
  if (spec === DEFAULT_MODEL && !existsSync(file)) {
    // A box must never silently run weights nobody trained: the random model has to be named.
    throw new FileError(file, `the shipped model is missing from this checkout; pass --model FILE, or --model ${RANDOM_DEMO_MODEL} for a random-weight demo whose masks mean nothing`, 'NO_FILE');
  }
  return named(readModelWithInfo(file), file);
}

/** A model from the bytes of a .aunet file (a firmware image's model section, a cache); `file` names it in errors. */
export function modelFromBytes(bytes: Uint8Array, file: string): LoadedModel {
  return named(decodeModelWithInfo(bytes, file), file);
}

function named({ model, info }: ReturnType<typeof decodeModelWithInfo>, file: string): LoadedModel {
  const metaName = model.meta && typeof model.meta.name === 'string' ? model.meta.name : null;
  return { model, name: metaName ?? basename(file).replace(/\.aunet$/, ''), sha256: info.sha256, file };
}
