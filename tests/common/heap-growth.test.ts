// The live service's heap growth (common/heap-growth.ts): V8 knows the flag, and setting it in a
// running process changes how often the heap is collected fully. Each run is a process of its own
// (the flag is process-wide): a 41 MB live heap, then objects that live long enough to be promoted
// and die there, with the growth set at run time after one full collection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { HEAP_GROWING_FLAG, setHeapGrowth } from '../../common/heap-growth.js';

const MODULE = new URL('../../common/heap-growth.ts', import.meta.url).href;

/** Full collections while 8 million objects pass, tens of MB of them promoted (64 MB at V8's own growth), with the growth set to `percent` at run time. */
function fullCollections(percent: number): number {
  const script = `
    import v8 from 'node:v8';
    import { setHeapGrowth } from ${JSON.stringify(MODULE)};
    const live = Array.from({ length: 300000 }, (_, i) => ({ i, s: 'x' + i, a: [i] }));
    setHeapGrowth(${percent});
    globalThis.gc(); // the limit from here on is the one the flag sets
    const profiler = new v8.GCProfiler();
    profiler.start();
    const ring = new Array(2048).fill(null); // each entry outlives two scavenges: promoted, then garbage
    for (let t = 0; t < 8000; t++) ring[t % 2048] = Array.from({ length: 1000 }, (_, k) => ({ t, k }));
    const full = profiler.stop().statistics.filter((s) => s.gcType === 'MarkSweepCompact').length;
    console.log(JSON.stringify({ full, live: live.length }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').pop()!) as { full: number }).full;
}

test("this Node's V8 has the heap growth flag (an unknown flag would be ignored with a line on stderr)", () => {
  const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
  assert.match(options, new RegExp(`${HEAP_GROWING_FLAG} \\(specifies heap growing factor`));
});

test('the growth set at run time changes how often the heap is collected fully', () => {
  const tight = fullCollections(10);
  const roomy = fullCollections(300);
  assert.ok(tight >= 4, `at 10 % the promoted garbage forces several full collections (got ${tight})`);
  assert.ok(roomy * 3 <= tight, `at 300 %, a third as many or fewer: ${roomy} against ${tight}`);
});

test('a growth out of range is refused with its value', () => {
  assert.throws(() => setHeapGrowth(-1), /integer percent in 0\.\.1000, got -1/);
  assert.throws(() => setHeapGrowth(2.5), /got 2\.5/);
  assert.throws(() => setHeapGrowth(5000), /got 5000/);
});
