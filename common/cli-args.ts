// CLI option parsing shared by the frame-source commands (probe, record, replay).
import { UsageError } from './errors.js';

export function parseCount(raw: string | undefined, flag = '--count'): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${raw}"`);
  return n;
}

export function parsePositive(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${raw}"`);
  return n;
}
