// A layer's choice between its two ways (host/chip/layer-choice.ts): the first frames alternate
// them, the warm-up untimed; then the faster by its fastest timed run is kept for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LayerChoice } from '../../../host/chip/layer-choice.js';

/** A fake clock the ways advance: way 0 and way 1 take the given ms on each run, in turn. */
function timedWays(ms: [number[], number[]]) {
  let clock = 0;
  const log: number[] = [];
  const runs = [0, 0];
  const way = (w: 0 | 1) => () => {
    log.push(w);
    clock += ms[w][Math.min(runs[w]++, ms[w].length - 1)];
  };
  return { ways: [way(0), way(1)] as [() => void, () => void], now: () => clock, log };
}

test('alternates while timing, then keeps the way with the fastest timed run', () => {
  // in order is no faster in two of its three timed runs, but its fastest run is the fastest of all
  const t = timedWays([[9, 9, 5, 6, 5], [9, 9, 7, 4, 8]]);
  const c = new LayerChoice(t.ways, t.now);
  for (let i = 0; i < 12; i++) c.run();
  assert.deepEqual(t.log.slice(0, 8), [0, 1, 0, 1, 0, 1, 0, 1], 'two warm-up runs, then three timed runs of each, alternated');
  assert.deepEqual(t.log.slice(8), [1, 1, 1, 1]);
  assert.equal(c.way, 'in order');
});

test('the warm-up runs do not count, and a tie keeps the tiles spread', () => {
  // the first run of each way is very fast (not timed); afterwards both take 3 ms
  const t = timedWays([[1, 3], [3, 3]]);
  const c = new LayerChoice(t.ways, t.now);
  for (let i = 0; i < 7; i++) c.run();
  assert.equal(c.way, null, 'still timing after 7 runs');
  assert.equal(c.runsLeft, 1);
  c.run();
  assert.equal(c.way, 'spread');
  assert.equal(c.runsLeft, 0);
  const slow = timedWays([[1, 8], [3, 3]]);
  const d = new LayerChoice(slow.ways, slow.now);
  for (let i = 0; i < 8; i++) d.run();
  assert.equal(d.way, 'in order', 'the spread way, fastest only while warming up, is not chosen');
});
