// Live capture: the v4l2 source against a fake capture device (the one mock the
// brief allows: a FIFO fed by a real ffmpeg lavfi generator stands in for
// /dev/videoN). The device disappears and returns; the source goes lost,
// reconnects with capped backoff and goes live again, ids counting on. A slow
// consumer makes the newest-wins queue drop old frames instead of building latency.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSource } from '../../camera/source.js';
import { NewestWinsQueue } from '../../camera/queue.js';
import { backoffMs } from '../../camera/sources/v4l2.js';
import { monoNowNs, type Frame, type StateChange } from '../../camera/frame.js';
import { RecordingReader, newRecordingStatus } from '../../camera/sources/recording.js';
import { ROOT, tempDir } from './helpers.js';
import { CLI } from '../support/aunet-cli.js';
import { setTimeout as sleep } from 'node:timers/promises';

const tmp = tempDir('live');
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  tmp.remove();
});

/** A fake capture card: a FIFO with ffmpeg writing a 25 fps test pattern into it. */
function fakeDevice(path: string): { start(): void; unplug(): void } {
  let writer: ChildProcess | undefined;
  return {
    start() {
      execFileSync('mkfifo', [path]);
      writer = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-c:v', 'rawvideo', '-pix_fmt', 'gray', '-f', 'nut', '-y', path], { stdio: 'ignore' });
      children.push(writer);
    },
    unplug() {
      writer?.kill('SIGKILL');
      rmSync(path, { force: true });
    },
  };
}

describe('live source (v4l2 through a fake device)', () => {
  it('reconnects with backoff after the device disappears and returns; ids keep counting', async () => {
    const dev = join(tmp.dir, 'video0');
    const fake = fakeDevice(dev);
    fake.start();
    const src = await openSource(`v4l2:${dev}?retry_min_ms=50&retry_max_ms=200`, { reconnect: true });
    assert.equal(src.info.live, true);
    assert.equal(src.state, 'connecting');
    const events: (StateChange & { at: number })[] = [];
    src.on('state', (c) => events.push({ ...c, at: performance.now() }));
    const frames: Frame[] = [];
    let unpluggedAt = 0;
    for await (const f of src) {
      frames.push(f);
      assert.equal(f.width, 160);
      assert.equal(f.height, 120);
      if (frames.length === 10) {
        fake.unplug();
        unpluggedAt = performance.now();
        setTimeout(() => fake.start(), 1200).unref();
      }
      if (frames.length === 25) break;
    }
    assert.equal(src.state, 'ended');
    const states = events.map((e) => e.state);
    assert.deepEqual(states.slice(0, 3), ['live', 'lost', 'connecting']);
    assert.equal(states.filter((s) => s === 'live').length, 2, `went live twice: ${states.join(' ')}`);
    assert.equal(states[states.length - 1], 'ended');
    // While unplugged it retried several times, spaced by at most the cap (+ scheduling slack).
    const retries = events.filter((e) => e.state === 'connecting' && e.at > unpluggedAt);
    assert.ok(retries.length >= 3, `${retries.length} reconnect attempts`);
    for (let i = 1; i < retries.length; i++) assert.ok(retries[i].at - retries[i - 1].at < 200 + 400, 'backoff is capped');
    assert.ok(retries.some((e) => /not present/.test(e.reason ?? '')), 'the reason names the missing device');
    // Ids strictly increase across the reconnect (never reused).
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i].id > frames[i - 1].id);
    const lostAt = events.find((e) => e.state === 'lost')!.at;
    const backLive = events.filter((e) => e.state === 'live')[1].at;
    assert.ok(backLive - lostAt >= 1000, 'live again only after the device came back');
  });

  it('a slow consumer gets the newest frames: old ones are dropped and counted, latency stays bounded', async () => {
    const dev = join(tmp.dir, 'video1');
    const fake = fakeDevice(dev);
    fake.start();
    const src = await openSource(`v4l2:${dev}?queue=2`);
    const ages: number[] = [];
    let n = 0;
    for await (const f of src) {
      ages.push(Number(monoNowNs() - f.captureTime.monoNs) / 1e6);
      await sleep(150); // inference far slower than 25 fps
      if (++n === 8) break;
    }
    fake.unplug();
    assert.ok((src.dropped ?? 0) >= 10, `dropped ${src.dropped}`);
    // With a queue of 2 a frame waits at most ~2 consumer periods, however long we run.
    assert.ok(Math.max(...ages.slice(2)) < 2 * 150 + 150, `frame ages ${ages.map((a) => a.toFixed(0)).join(' ')}`);
  });

  it('aunet record from a live source ends cleanly on SIGINT: a complete recording', async () => {
    const dev = join(tmp.dir, 'video2');
    const fake = fakeDevice(dev);
    fake.start();
    const out = join(tmp.dir, 'live.aurec');
    const child = spawn(process.execPath, [CLI, 'record', `v4l2:${dev}`, '--out', out, '--flush-frames', '5', '--flush-log'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await new Promise<void>((resolve) => child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (/flushed 10\n/.test(stdout)) resolve();
    }));
    child.kill('SIGINT');
    assert.equal(await closed, 0, stderr);
    fake.unplug();
    const reader = new RecordingReader(out);
    assert.ok((reader.doneCount ?? 0) >= 10, 'a clean end record');
    const status = newRecordingStatus();
    const frames = [...reader.frames(status)];
    reader.close();
    assert.equal(status.recovered, false);
    assert.equal(frames.length, reader.doneCount);
    assert.ok(frames.every((f) => f.width === 160 && f.height === 120));
  });

  it('backoff doubles from the minimum and is capped', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a, 250, 5000)), [250, 500, 1000, 2000, 4000, 5000]);
  });
});

describe('newest-wins queue', () => {
  it('drops the oldest when full, counts drops, delivers in order', async () => {
    const dropped: number[] = [];
    const q = new NewestWinsQueue<number>(3, (d) => dropped.push(d));
    for (let i = 0; i < 10; i++) q.push(i);
    assert.equal(q.dropped, 7);
    assert.deepEqual(dropped, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal((await q.next()).value, 7);
    assert.equal((await q.next()).value, 8);
    q.push(10);
    q.close();
    assert.deepEqual([(await q.next()).value, (await q.next()).value], [9, 10]);
    assert.equal((await q.next()).done, true);
    assert.equal(q.pushed, 11);
  });

  it('a waiting consumer gets the next push directly; close wakes it', async () => {
    const q = new NewestWinsQueue<string>(1);
    const p = q.next();
    q.push('a');
    assert.equal((await p).value, 'a');
    const p2 = q.next();
    q.close();
    assert.equal((await p2).done, true);
    assert.equal(q.push('late'), undefined);
    assert.throws(() => new NewestWinsQueue(0), /capacity/);
  });
});
