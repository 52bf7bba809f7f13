// Replay: pacing modes, loops (clock re-anchored, ids continuous, no burst at the
// wrap), ranges, counts, drops under a slow consumer; then the CLI with a real
// int8 model: golden record/check with Dice, the HTML report.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replay, newStats, parseRange, type ReplayedFrame, type ReplayOptions } from '../../../camera/replayer.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { writeModel } from '../../../models/format.js';
import { decodeRuns, encodeRuns } from '../../../host/replay/golden.js';
import { dice } from '../../../models/fidelity.js';
import { tempDir } from '../../camera/helpers.js';
import { runAunet } from '../../support/aunet-cli.js';
import { setTimeout as sleep } from 'node:timers/promises';

const tmp = tempDir('replay');
after(() => tmp.remove());

async function run(spec: string, o: ReplayOptions, work?: (r: ReplayedFrame) => Promise<void>) {
  const stats = newStats();
  const out: ReplayedFrame[] = [];
  for await (const r of replay(spec, o, stats)) {
    out.push(r);
    await work?.(r);
  }
  return { out, stats };
}

describe('replayer pacing', () => {
  it('loops: ids keep counting, the clock re-anchors one interval after the last frame (no burst)', async () => {
    // 5 frames at 50 fps, looped to 12: generous drop limit, this checks structure not speed
    const { out, stats } = await run('phantom:?size=32x32&fps=50&frames=5', { pace: { mode: 'realtime' }, loop: true, count: 12, dropAfterMs: 10_000 });
    assert.deepEqual(out.map((r) => r.frame.id), [...Array(12).keys()]);
    assert.deepEqual(out.map((r) => r.sourceIndex), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]);
    assert.deepEqual(out.map((r) => r.pass), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]);
    assert.equal(stats.passes, 3);
    assert.equal(stats.delivered, 12);
    for (let i = 1; i < out.length; i++) {
      const gap = out[i].dueMs - out[i - 1].dueMs;
      assert.ok(gap >= 20 - 1e-6, `due gap ${gap.toFixed(2)} ms before frame ${i} (20 ms recorded; never a burst at a wrap)`);
      assert.ok(out[i].releasedMs >= out[i].dueMs - 0.5, 'never released before it is due');
    }
  });

  it('--range limits every pass; --count stops', async () => {
    const { out } = await run('phantom:?size=32x32&fps=200&frames=8', { pace: { mode: 'afap' }, loop: true, range: parseRange('2:5'), count: 7 });
    assert.deepEqual(out.map((r) => r.sourceIndex), [2, 3, 4, 2, 3, 4, 2]);
    assert.deepEqual(parseRange(':3'), { start: 0, end: 3 });
    assert.throws(() => parseRange('5:2'), /end must be after start/);
    assert.throws(() => parseRange('x'), /--range must be/);
  });

  it('--speed and --fps set the schedule', async () => {
    const fast = await run('phantom:?size=32x32&fps=25&frames=4', { pace: { mode: 'speed', factor: 2 }, dropAfterMs: 10_000 });
    const due = fast.out.map((r) => r.dueMs - fast.out[0].dueMs);
    assert.deepEqual(due.map((d) => Math.round(d)), [0, 20, 40, 60]);
    const fixed = await run('phantom:?size=32x32&fps=25&frames=4', { pace: { mode: 'fps', fps: 100 }, dropAfterMs: 10_000 });
    assert.deepEqual(fixed.out.map((r) => Math.round(r.dueMs - fixed.out[0].dueMs)), [0, 10, 20, 30]);
  });

  it('a consumer slower than the stream: late frames are dropped and counted, ids show the gaps', async () => {
    const { out, stats } = await run('phantom:?size=32x32&fps=100&frames=30', { pace: { mode: 'realtime' } }, () => sleep(45));
    assert.ok(stats.dropped >= 10, `dropped ${stats.dropped}`);
    assert.equal(stats.delivered + stats.dropped, 30);
    assert.equal(out.length, stats.delivered);
    const gaps = out.slice(1).reduce((a, r, i) => a + (r.frame.id - out[i].frame.id - 1), 0);
    assert.equal(gaps + (29 - out[out.length - 1].frame.id) + out[0].frame.id, stats.dropped, 'id gaps are exactly the drops');
  });

  it('--afap delivers everything, in order', async () => {
    const { out, stats } = await run('phantom:?size=32x32&fps=5&frames=6', { pace: { mode: 'afap' } });
    assert.equal(out.length, 6);
    assert.equal(stats.dropped, 0);
  });
});

describe('golden masks', () => {
  it('run-length coding round-trips; Dice is 1 for equal and 0 for disjoint masks', () => {
    const m = Uint8Array.from([1, 1, 0, 0, 0, 1, 0, 1]);
    assert.deepEqual(encodeRuns(m), [0, 2, 3, 1, 1, 1]);
    assert.deepEqual(decodeRuns(encodeRuns(m), 8), m);
    assert.equal(dice(m, m), 1);
    assert.equal(dice(Uint8Array.from([1, 0]), Uint8Array.from([0, 1])), 0);
    assert.equal(dice(Uint8Array.from([1, 1, 0, 0]), Uint8Array.from([1, 0, 0, 0])), 2 / 3);
  });
});

describe('aunet replay (CLI, real int8 model)', () => {
  const modelA = join(tmp.dir, 'a.aunet');
  const modelB = join(tmp.dir, 'b.aunet');
  const arch = { filters: 4, height: 32, width: 32, channels: 1 };
  writeModel(modelA, randomQModel(arch, { seed: 11 }));
  writeModel(modelB, randomQModel(arch, { seed: 12 }));
  const spec = 'phantom:?size=96x64&frames=6&seed=3';
  const golden = join(tmp.dir, 'golden.json');

  it('records a golden run, passes against it, and lists differing frames with Dice for another model', async () => {
    const first = await runAunet(['replay', spec, '--model', modelA, '--afap', '--golden', golden, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const s1 = JSON.parse(first.stdout);
    assert.equal(s1.frames, 6);
    assert.equal(s1.golden.recorded, true);
    const g = JSON.parse(readFileSync(golden, 'utf8'));
    assert.equal(Object.keys(g.frames).length, 6);
    assert.equal(g.frames['0'].attention.length, 4);

    const same = await runAunet(['replay', spec, '--model', modelA, '--afap', '--golden', golden, '--json']);
    assert.equal(same.code, 0, same.stderr);
    assert.deepEqual(JSON.parse(same.stdout).golden.differing, []);
    assert.equal(JSON.parse(same.stdout).golden.checked, 6);

    const report = join(tmp.dir, 'report');
    const other = await runAunet(['replay', spec, '--model', modelB, '--afap', '--golden', golden, '--report', report]);
    assert.equal(other.code, 1, 'differences fail the run');
    assert.match(other.stderr, /frame\(s\) differ from the golden outputs/);
    const lines = other.stdout.split('\n').filter((l) => /^ {2}frame \d+ \(id \d+\):/.test(l));
    assert.ok(lines.length > 0, other.stdout);
    for (const l of lines) assert.match(l, /Dice (0|1)\.\d{4}/);
    const html = readFileSync(join(report, 'index.html'), 'utf8');
    for (const png of ['lesion-area.png', 'latency.png', 'drops.png']) {
      assert.ok(existsSync(join(report, png)), png);
      assert.ok(html.includes(png));
    }
    assert.match(html, /thumbs\/frame-\d+-\d+\.png/);
  });

  it('--no-model says so and still paces the frames', async () => {
    const r = await runAunet(['replay', spec, '--no-model', '--fps', '50', '--drop-after', '5000', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no model/);
    assert.equal(JSON.parse(r.stdout).frames, 6);
    const bad = await runAunet(['replay', spec, '--fps', '10', '--afap']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /choose one pacing/);
  });
});
