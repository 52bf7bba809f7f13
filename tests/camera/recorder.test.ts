// The recorder survives crashes: a real `aunet record` child SIGKILLed mid-write
// replays every frame up to its last flush, bit-exact; torn tails and damaged
// records end the replay at the last intact frame.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openSource } from '../../camera/source.js';
import { Recorder } from '../../camera/recorder.js';
import { FileError } from '../../common/errors.js';
import { RecordingReader, newRecordingStatus, type RecordingStatus } from '../../camera/sources/recording.js';
import { phantomFrames } from '../../camera/sources/phantom.js';
import type { Frame } from '../../camera/frame.js';
import { ROOT, tempDir } from './helpers.js';
import { CLI, runAunet } from '../support/aunet-cli.js';

const tmp = tempDir('recorder');
after(() => tmp.remove());

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

/** Record `n` small phantom frames to `file` (index fsynced every `flushFrames`); returns the frames. */
function recordPhantom(file: string, n: number, flushFrames: number): Frame[] {
  const rec = new Recorder(file, { spec: 'phantom', kind: 'phantom', live: false }, 'test', { flushFrames });
  const frames = phantomFrames(n, { width: 40, height: 30 });
  for (const f of frames) rec.append(f);
  rec.close();
  return frames;
}

function readAll(file: string): { frames: Frame[]; status: RecordingStatus } {
  const r = new RecordingReader(file);
  const status = newRecordingStatus();
  const frames = [...r.frames(status)];
  r.close();
  return { frames, status };
}

describe('recorder crash safety', () => {
  it('a recording SIGKILLed mid-write replays every frame up to its last flush', async () => {
    const out = join(tmp.dir, 'killed.aurec');
    const spec = 'phantom:?size=128x96&fps=30&seed=9&frames=0'; // endless: it is writing when killed
    const child = spawn(process.execPath, [CLI, 'record', spec, '--out', out, '--flush-frames', '4', '--flush-log'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let lastFlushed = 0;
    let flushes = 0;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const killed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        buf += s;
        for (const m of buf.matchAll(/flushed (\d+)\n/g)) {
          lastFlushed = Number(m[1]);
          flushes++;
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
        if (flushes >= 4) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('close', () => reject(new Error(`recorder exited before it was killed: ${stderr}`)));
    });
    assert.equal(await killed, 'SIGKILL');
    assert.ok(lastFlushed >= 16);

    const { frames, status } = readAll(out);
    assert.equal(status.recovered, true, 'no clean end record');
    assert.ok(frames.length >= lastFlushed, `${frames.length} frames replayed, ${lastFlushed} were flushed`);
    // Bit-exact: the same frames the phantom produces, in order, with their timestamps.
    const expected = phantomFrames(frames.length, { width: 128, height: 96, fps: 30, seed: 9 });
    frames.forEach((f, i) => {
      assert.equal(f.id, i);
      assert.equal(sha(f.pixels), sha(expected[i].pixels), `frame ${i} pixels`);
      assert.equal(sha(f.groundTruth!), sha(expected[i].groundTruth!), `frame ${i} mask`);
      assert.equal(f.captureTime.monoNs, expected[i].captureTime.monoNs);
    });
    // And the CLI says it was recovered.
    const probe = await runAunet(['probe', `rec:${out}`, '--json']);
    assert.equal(probe.code, 0, probe.stderr);
    assert.equal(JSON.parse(probe.stdout).frames, frames.length);
    assert.match(probe.stderr, /warning: .*no clean end/);
  });

  it('a torn tail at any byte ends the replay at the last complete frame', () => {
    const file = join(tmp.dir, 'whole.aurec');
    const src = recordPhantom(file, 10, 3);
    const whole = readFileSync(file);
    const all = readAll(file);
    assert.equal(all.frames.length, 10);
    assert.equal(all.status.recovered, false);
    // Cut the file at many points: each replays a prefix of the frames, never a damaged one.
    let lastCount = -1;
    for (let cut = 40; cut < whole.length; cut += 97) {
      const f = join(tmp.dir, 'torn.aurec');
      writeFileSync(f, whole.subarray(0, cut));
      let r: { frames: Frame[]; status: RecordingStatus };
      try {
        r = readAll(f);
      } catch (e) {
        assert.match((e as Error).message, /header is damaged|not an aunet recording/);
        continue;
      }
      assert.equal(r.status.recovered, true);
      assert.ok(r.frames.length >= lastCount, 'a longer file never replays fewer frames');
      lastCount = r.frames.length;
      r.frames.forEach((fr, i) => assert.deepEqual(fr.pixels, src[i].pixels));
    }
    assert.ok(lastCount >= 9);
  });

  it('a damaged frame in a cleanly ended recording is an error naming the byte and the frame; --salvage skips it, keeping positions', () => {
    const file = join(tmp.dir, 'flip.aurec');
    const src = recordPhantom(file, 6, 100);
    const b = readFileSync(file);
    // Find the 4th FRAM record and flip a pixel byte in it.
    let pos = -1;
    for (let k = 0; k < 4; k++) pos = b.indexOf('FRAM', pos + 1, 'latin1');
    b[pos + 100] ^= 0x55;
    writeFileSync(file, b);
    assert.throws(() => readAll(file), (e: Error) => e instanceof FileError && e.code === 'BAD_RECORDING' && e.message.includes(`damaged at byte ${pos} (after frame 3): CRC mismatch`) && /ended cleanly with 6 frames/.test(e.message));
    const reader = new RecordingReader(file, true);
    const status = newRecordingStatus();
    const warnings: string[] = [];
    const frames = [...reader.frames(status, (w) => warnings.push(w))];
    reader.close();
    assert.deepEqual(frames.map((f) => f.index), [0, 1, 2, 4, 5], 'the frames after the damage keep their positions');
    frames.forEach((f) => assert.deepEqual(f.pixels, src[f.index!].pixels));
    assert.equal(status.lostFrames, 1);
    assert.equal(status.damaged.length, 1);
    assert.match(warnings.join('\n'), /SALVAGED: 5 frames recovered, 1 lost/);
  });

  it('a full disk (a file size limit in the child) ends the recording cleanly with what fits, reported as such; it replays', async () => {
    const out = join(tmp.dir, 'full.aurec');
    // RLIMIT_FSIZE: writes past 256 KiB fail with EFBIG, as ENOSPC does on a full disk, without privileges
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', `ulimit -f 256; exec "${process.execPath}" "${CLI}" record 'phantom:?size=320x240&frames=200&seed=3' --out "${out}" --flush-frames 5`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 1, r.stderr);
    const m = /^aunet: no space left to write \(EFBIG\) after (\d+) frames: it keeps the \1 whole frames with a clean end; it replays with `aunet replay rec:.*full\.aurec` \(.*full\.aurec\): free disk space/m.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.ok(statSync(out).size <= 256 * 1024);
    const { frames, status } = readAll(out);
    assert.equal(frames.length, Number(m[1]));
    assert.ok(frames.length > 0);
    assert.equal(status.recovered, false, 'a clean end');
  });

  it('record --count through the CLI, then rec: replays the same probe hash as the source', async () => {
    const out = join(tmp.dir, 'cli.aurec');
    const spec = 'phantom:?size=64x48&seed=2&frames=40';
    const r = await runAunet(['record', spec, '--out', out, '--count', '25']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(statSync(out).size > 0);
    const [a, b] = await Promise.all([runAunet(['probe', spec, '--count', '25', '--json']), runAunet(['probe', `rec:${out}`, '--json'])]);
    const pa = JSON.parse(a.stdout);
    const pb = JSON.parse(b.stdout);
    assert.equal(pb.frames, 25);
    assert.equal(pb.sha256, pa.sha256);
    assert.equal(pb.fps, 30, 'the recording keeps the nominal fps');
    const header = (await openSource(`rec:${out}`)) as unknown as { header: { source: { spec: string } }; close(): Promise<void> };
    assert.equal(header.header.source.spec, spec);
    await header.close();
  });
});
