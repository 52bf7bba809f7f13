// The chip configuration: what the study's dedicated chip (../shared/docs/chip.md)
// is made of, as a schema-validated JSON file. Parsing goes schema, then
// cross-field rules, collecting every problem with its dotted path
// (`dram.bytesPerCycle: must be > 0`), so a bad file is refused naming the field.
// Rules that need the model (the SRAM must hold one tile of every layer) are
// checked by the compiler, which knows the layers, with the same error class.
// Reference: docs/chip-model.md.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AunetError, UsageError } from '../../common/errors.js';
import { formatIssues, issuePath, type SchemaIssue } from '../../common/schema-issues.js';

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();

const unitSchema = z.strictObject({
  /** multiply-accumulates per cycle of the unit's MAC array */
  macsPerCycle: positiveInt,
  /**
   * input channels the array reduces per cycle (NVDLA's atomic-C); the array is
   * atomicC x (macsPerCycle / atomicC). Optional: without it, cycles = ceil(MACs / rate).
   */
  atomicC: positiveInt.optional(),
  /** element-wise operations per cycle (add, requantize, compare, lookup) */
  elementwiseOpsPerCycle: positiveInt,
});

const schema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  clockHz: z.number().positive(),
  dram: z.strictObject({
    /** bytes per cycle the off-chip memory moves, all DMA engines together */
    bytesPerCycle: z.number().positive(),
    /** cycles from a DMA request to its first byte */
    latencyCycles: nonNegative,
    /** capacity; the model's weights and DRAM-resident tensors must fit */
    bytes: positiveInt,
    /** smallest transfer unit: a run shorter than a burst costs a whole burst of time */
    burstBytes: positiveInt.optional(),
  }),
  sram: z.strictObject({
    bytes: positiveInt,
    banks: positiveInt,
  }),
  units: z.strictObject({ encoder: unitSchema, attention: unitSchema, decoder: unitSchema }),
  dma: z.strictObject({ engines: positiveInt }),
  /** optional per-access energy table (picojoules) */
  energy: z
    .strictObject({
      dramPjPerByte: nonNegative,
      sramPjPerByte: nonNegative,
      macPj: nonNegative,
      elementwisePj: nonNegative,
    })
    .optional(),
});

export type ChipConfig = z.infer<typeof schema>;

/** JSON Schema of the config file, generated from the same zod schema (docs/chip-config.schema.json). */
export function chipConfigJsonSchema(): object {
  return z.toJSONSchema(schema, { target: 'draft-2020-12' });
}
export type UnitName = keyof ChipConfig['units'];
export const UNIT_NAMES: readonly UnitName[] = ['encoder', 'attention', 'decoder'];

/** A configuration that cannot work; `field` is the dotted path of the offending field. */
export class ChipConfigError extends AunetError {
  constructor(message: string, readonly field: string) {
    super('BAD_CHIP_CONFIG', message);
    this.name = 'ChipConfigError';
  }
}

/** Validate an already-parsed JSON value; throws ChipConfigError listing every problem. */
export function parseChipConfig(value: unknown, source = 'chip config'): ChipConfig {
  const r = schema.safeParse(value);
  const problems: SchemaIssue[] = r.success ? [] : [...r.error.issues];
  if (r.success) {
    for (const [name, u] of Object.entries(r.data.units)) {
      if (u.atomicC !== undefined && u.macsPerCycle % u.atomicC !== 0) {
        problems.push({ path: ['units', name, 'atomicC'], message: `must divide macsPerCycle (${u.macsPerCycle}), got ${u.atomicC}` });
      }
    }
    if (r.data.sram.bytes % r.data.sram.banks !== 0) {
      problems.push({ path: ['sram', 'banks'], message: `must divide sram.bytes (${r.data.sram.bytes}), got ${r.data.sram.banks}` });
    }
  }
  if (problems.length) throw new ChipConfigError(`${source}: ${formatIssues(problems)}`, issuePath(problems[0].path));
  return r.data!;
}

const PRESET_DIR = join(dirname(fileURLToPath(import.meta.url)), 'presets');

export function presetNames(): string[] {
  return readdirSync(PRESET_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

export function loadPreset(name: string): ChipConfig {
  if (!presetNames().includes(name)) {
    throw new UsageError(`unknown chip preset '${name}' (presets: ${presetNames().join(', ')})`);
  }
  return readChipConfig(join(PRESET_DIR, `${name}.json`));
}

export function readChipConfig(file: string): ChipConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ChipConfigError(`${file}: cannot read chip config: ${(e as Error).message}`, 'file');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ChipConfigError(`${file}: not valid JSON: ${(e as Error).message}`, 'file');
  }
  return parseChipConfig(json, file);
}

/** A config object, a preset name, or undefined (the `default` preset); `sramBytes` overrides sram.bytes. */
export function resolveChipConfig(chip: ChipConfig | string | undefined, sramBytes?: number): ChipConfig {
  const base = chip === undefined ? loadPreset('default') : typeof chip === 'string' ? loadPreset(chip) : parseChipConfig(chip);
  if (sramBytes === undefined) return base;
  const banks = base.sram.banks;
  // keep the bank count when it divides the new size, else one bank
  return parseChipConfig({ ...base, sram: { bytes: sramBytes, banks: sramBytes % banks === 0 ? banks : 1 } }, `${base.name} with --sram ${sramBytes}`);
}

export function totalMacsPerCycle(c: ChipConfig): number {
  return UNIT_NAMES.reduce((s, u) => s + c.units[u].macsPerCycle, 0);
}

/** '64K', '1M', '131072' -> bytes */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]i?[bB]?)?\s*$/.exec(text);
  if (!m) throw new ChipConfigError(`not a byte size: '${text}' (examples: 65536, 64K, 1M)`, 'sram.bytes');
  const unit = (m[2] ?? '').toLowerCase()[0];
  const v = Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1);
  if (!Number.isInteger(v)) throw new ChipConfigError(`byte size must be a whole number of bytes: '${text}'`, 'sram.bytes');
  return v;
}
