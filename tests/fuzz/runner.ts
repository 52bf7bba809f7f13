// Running a fuzz target with fast-check (a maintained property-based testing
// library; pure JavaScript, seeded, reproducible): inputs are seeds mutated by a
// few byte-level operations (bit flips, interesting values, cuts, inserts,
// duplicated runs), half of them with their checksums repaired, plus some
// wholly random bytes. A crash is any throw from `run`; a hang is one input
// taking over 1 s (timed per input: a synchronous endless loop cannot be
// interrupted from inside the process, the bench's watchdog kills it).
import fc from 'fast-check';
import type { FuzzTarget } from './targets.js';

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xffff, 0x10000];

type Op =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; v: number }
  | { k: 'u32'; at: number; v: number }
  | { k: 'cut'; at: number }
  | { k: 'insert'; at: number; bytes: Uint8Array }
  | { k: 'dup'; at: number; len: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('set' as const), at: fc.nat(), v: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ k: fc.constant('u32' as const), at: fc.nat(), v: fc.constantFrom(...INTERESTING_32) }),
  fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ k: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
);

function apply(seed: Uint8Array, ops: Op[]): Uint8Array {
  let b = Uint8Array.from(seed);
  for (const o of ops) {
    if (b.length === 0) break;
    const at = o.at % b.length;
    if (o.k === 'flip') b[at] ^= 1 << o.bit;
    else if (o.k === 'set') b[at] = o.v;
    else if (o.k === 'u32' && at + 4 <= b.length) new DataView(b.buffer).setUint32(at, o.v >>> 0, true);
    else if (o.k === 'cut') b = b.subarray(0, at);
    else if (o.k === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...o.bytes, ...b.subarray(at)]);
    else if (o.k === 'dup') b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at, at + o.len), ...b.subarray(at)]);
  }
  return b;
}

/** The inputs of a target: mutated seeds (half with checksums repaired) and some random bytes. */
export function inputs(t: FuzzTarget): fc.Arbitrary<Uint8Array> {
  const mutated = fc.tuple(fc.nat(t.seeds.length - 1), fc.array(op, { minLength: 1, maxLength: 6 }), fc.boolean()).map(([i, ops, fix]) => {
    const m = apply(t.seeds[i], ops);
    return fix && t.fixup ? t.fixup(m) : m;
  });
  return fc.oneof({ weight: 9, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) });
}

export interface FuzzReport {
  target: string;
  inputs: number;
  seconds: number;
  crashes: number;
  /** the first 20 crashes, each with its whole input (hex) */
  examples: { input: string; error: string }[];
  /** inputs that took over 1 s */
  hangs: number;
  slowestMs: number;
}

/**
 * Run `t` for `numRuns` inputs (or until `seconds` pass), counting crashes
 * instead of stopping at the first (the benchmark); the CI test uses
 * fc.assert on the same inputs, which stops and shrinks.
 */
export async function fuzz(t: FuzzTarget, opts: { seed: number; numRuns: number; seconds?: number }): Promise<FuzzReport> {
  const report: FuzzReport = { target: t.name, inputs: 0, seconds: 0, crashes: 0, examples: [], hangs: 0, slowestMs: 0 };
  const t0 = performance.now();
  const deadline = opts.seconds ? t0 + opts.seconds * 1000 : Infinity;
  await fc.assert(
    fc.asyncProperty(inputs(t), async (input) => {
      if (performance.now() > deadline) return;
      const s = performance.now();
      try {
        await t.run(input);
      } catch (e) {
        if (report.crashes++ < 20) report.examples.push({ input: Buffer.from(input).toString('hex'), error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      }
      const ms = performance.now() - s;
      if (ms > 1000) report.hangs++;
      report.slowestMs = Math.max(report.slowestMs, ms);
      report.inputs++;
    }),
    { seed: opts.seed, numRuns: opts.numRuns, endOnFailure: true },
  );
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}
