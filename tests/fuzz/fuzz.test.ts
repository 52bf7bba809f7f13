// A short seeded fuzz pass of every decoder that takes outside bytes (the long
// runs and their figures: tests/perf/fuzz.bench.ts, docs/security.md). A crash
// fails with the input that caused it, shrunk by fast-check, and its seed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzTargets, type FuzzTarget } from './targets.js';
import { inputs } from './runner.js';

const SEED = 20261129;
const RUNS: Record<string, number> = { mqtt: 1500, aurec: 1500, serial: 1500 };
const targets: FuzzTarget[] = await fuzzTargets();
after(async () => {
  for (const t of targets) await t.close?.();
});

for (const t of targets) {
  test(`fuzz ${t.name}: ${t.what}`, { timeout: 120_000 }, async () => {
    // the seeds and the inputs that once crashed it, unmutated
    for (const input of [...t.seeds, ...(t.regressions ?? [])]) await t.run(input);
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(inputs(t), async (input) => {
        const s = performance.now();
        await t.run(input);
        slowest = Math.max(slowest, performance.now() - s);
      }),
      { seed: SEED, numRuns: RUNS[t.name] ?? 4000, includeErrorInReport: true },
    );
    assert.ok(slowest < 1000, `one input took ${slowest.toFixed(0)} ms`);
  });
}
