// The one parser of numeric command-line flags: every command reads its
// integer and number flags here, so a bad value is always a usage error
// (exit 2) naming the flag, the range and what was given.
import { UsageError } from './errors.js';

export interface IntegerRange {
  min?: number;
  max?: number;
}

export interface NumberRange extends IntegerRange {
  /** the value must be greater than this (an open lower bound, e.g. 0 for "positive") */
  above?: number;
}

function rangeText(r: NumberRange): string {
  if (r.min !== undefined && r.max !== undefined) return ` ${r.min}..${r.max}`;
  const lower = r.above !== undefined ? ` > ${r.above}` : r.min !== undefined ? ` >= ${r.min}` : '';
  const upper = r.max !== undefined ? `${lower ? ' and' : ''} <= ${r.max}` : '';
  return lower + upper;
}

function refuse(flag: string, raw: string, want: string): never {
  throw new UsageError(`must be ${want}, not ${raw === '' ? "''" : raw}`, 'USAGE', { subject: flag });
}

/** An integer flag within `range`; undefined stays undefined (the flag was not given). */
export function parseInteger(raw: string, flag: string, range?: IntegerRange): number;
export function parseInteger(raw: string | undefined, flag: string, range?: IntegerRange): number | undefined;
export function parseInteger(raw: string | undefined, flag: string, range: IntegerRange = {}): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  const ok = Number.isSafeInteger(n) && (range.min === undefined || n >= range.min) && (range.max === undefined || n <= range.max);
  return ok ? n : refuse(flag, raw, `an integer${rangeText(range)}`);
}

/** A finite number flag within `range`; undefined stays undefined. */
export function parseNumber(raw: string, flag: string, range?: NumberRange): number;
export function parseNumber(raw: string | undefined, flag: string, range?: NumberRange): number | undefined;
export function parseNumber(raw: string | undefined, flag: string, range: NumberRange = {}): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? NaN : Number(raw);
  const ok = Number.isFinite(n) && (range.above === undefined || n > range.above) && (range.min === undefined || n >= range.min) && (range.max === undefined || n <= range.max);
  return ok ? n : refuse(flag, raw, `a number${rangeText(range)}`);
}

/** parseInteger as a commander option parser: `.option('--port <n>', '...', integerOption('--port', { min: 0, max: 65535 }))`. */
export function integerOption(flag: string, range: IntegerRange = {}): (raw: string) => number {
  return (raw) => parseInteger(raw, flag, range);
}
