// Damaged recordings fail loudly, torn tails do not: a property run over random
// frame sequences (record -> flip a random byte -> read) checks that the reader
// either reports the damage or returns exactly the original frames, never wrong
// ones, and that --salvage returns only original frames at their positions;
// then the CLI: probe of a damaged recording exits 1 naming the byte, --salvage
// replays what it can, labelled, and a torn tail replays with a warning.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Recorder } from '../../camera/recorder.js';
import { RecordingReader, newRecordingStatus } from '../../camera/sources/recording.js';
import type { Frame } from '../../camera/frame.js';
import { FileError } from '../../common/errors.js';
import { tempDir } from './helpers.js';
import { runAunet } from '../support/aunet-cli.js';

const tmp = tempDir('damage');
after(() => tmp.remove());

const frameArb = fc.record({
  width: fc.integer({ min: 1, max: 12 }),
  height: fc.integer({ min: 1, max: 9 }),
  seed: fc.integer({ min: 0, max: 255 }),
  mask: fc.boolean(),
});

function makeFrames(specs: { width: number; height: number; seed: number; mask: boolean }[]): Frame[] {
  return specs.map((s, id) => {
    const pixels = Uint8Array.from({ length: s.width * s.height }, (_, i) => (s.seed * 31 + i * 7) & 255);
    return {
      id,
      captureTime: { monoNs: BigInt(id) * 33_333_333n, wallMs: 1_700_000_000_000 + id * 33 },
      width: s.width,
      height: s.height,
      pixels,
      groundTruth: s.mask ? pixels.map((v) => (v > 128 ? 255 : 0)) : undefined,
      meta: { n: id },
    };
  });
}

function record(file: string, frames: Frame[], flushFrames: number, level: number): void {
  const rec = new Recorder(file, { spec: 'test', kind: 'test', live: false }, 'test', { flushFrames, force: true, level });
  for (const f of frames) rec.append(f);
  rec.close();
}

function read(file: string, salvage: boolean): Frame[] {
  const r = new RecordingReader(file, salvage);
  try {
    return [...r.frames(newRecordingStatus())];
  } finally {
    r.close();
  }
}

const same = (a: Frame, b: Frame) =>
  a.id === b.id && a.width === b.width && a.height === b.height && Buffer.from(a.pixels).equals(Buffer.from(b.pixels)) &&
  a.captureTime.monoNs === b.captureTime.monoNs && JSON.stringify(a.meta) === JSON.stringify(b.meta) &&
  (a.groundTruth === undefined) === (b.groundTruth === undefined) && (!a.groundTruth || Buffer.from(a.groundTruth).equals(Buffer.from(b.groundTruth!)));

describe('recording damage (property)', () => {
  it('record -> damage one random byte -> read: the damage is reported, or the frames are the originals; salvage never returns a wrong frame', () => {
    const file = join(tmp.dir, 'prop.aurec');
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 255 }),
        (specs, flushFrames, level, where, xor) => {
          const frames = makeFrames(specs);
          record(file, frames, flushFrames, level);
          const bytes = readFileSync(file);
          const at = Math.floor(where * bytes.length);
          bytes[at] ^= xor;
          writeFileSync(file, bytes);
          let got: Frame[] | undefined;
          try {
            got = read(file, false);
          } catch (e) {
            assert.ok(e instanceof FileError && e.code === 'BAD_RECORDING', `a FileError BAD_RECORDING, got ${String(e)}`);
          }
          if (got) {
            // only the end record's damage leaves every frame readable: then all of them, exactly
            assert.equal(got.length, frames.length, `byte ${at} of ${bytes.length} flipped: ${got.length} of ${frames.length} frames and no error`);
            got.forEach((f, i) => assert.ok(same(f, frames[i]), `frame ${i} differs from the original`));
          }
          let salvaged: Frame[] = [];
          try {
            salvaged = read(file, true);
          } catch (e) {
            assert.ok(e instanceof FileError && e.code === 'BAD_RECORDING', String(e)); // a damaged header
          }
          for (const f of salvaged) assert.ok(f.index !== undefined && same(f, frames[f.index]), `salvaged frame at ${f.index} is not the original`);
        },
      ),
      { numRuns: 150, seed: 16 },
    );
  });

  it('a cut at any byte (a torn tail) replays a prefix of the original frames, with no error', () => {
    const file = join(tmp.dir, 'cut.aurec');
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 3 }), fc.double({ min: 0, max: 1, noNaN: true }), (specs, flushFrames, where) => {
        const frames = makeFrames(specs);
        record(file, frames, flushFrames, 1);
        const whole = readFileSync(file);
        writeFileSync(file, whole.subarray(0, Math.floor(where * whole.length)));
        let got: Frame[];
        try {
          got = read(file, false);
        } catch (e) {
          assert.ok(e instanceof FileError && /header|not an aunet recording/.test(e.message), String(e));
          return;
        }
        assert.ok(got.length <= frames.length);
        got.forEach((f, i) => assert.ok(same(f, frames[i])));
      }),
      { numRuns: 100, seed: 16 },
    );
  });
});

describe('damaged recordings through the CLI', () => {
  const clean = join(tmp.dir, 'clean.aurec');
  const flipped = join(tmp.dir, 'flipped.aurec');
  const torn = join(tmp.dir, 'torn.aurec');

  it('probe: a flipped byte mid-file exits 1 naming the byte and frame; --salvage exits 0, labelled; a torn tail warns', async () => {
    const r = await runAunet(['record', 'phantom:?size=64x48&frames=40&seed=4', '--out', clean, '--flush-frames', '10']);
    assert.equal(r.code, 0, r.stderr);
    const bytes = readFileSync(clean);
    let pos = -1;
    for (let k = 0; k < 20; k++) pos = bytes.indexOf('FRAM', pos + 1, 'latin1');
    const damaged = Buffer.from(bytes);
    damaged[pos + 200] ^= 1;
    writeFileSync(flipped, damaged);
    writeFileSync(torn, bytes.subarray(0, bytes.length - 100));

    const bad = await runAunet(['probe', `rec:${flipped}`, '--json']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, new RegExp(`damaged at byte ${pos} \\(after frame 19\\): CRC mismatch`));
    assert.match(bad.stderr, /--salvage/);
    assert.equal(bad.stdout, '', 'no result for a damaged file');

    const salvaged = await runAunet(['probe', `rec:${flipped}`, '--json', '--salvage']);
    assert.equal(salvaged.code, 0, salvaged.stderr);
    assert.equal(JSON.parse(salvaged.stdout).frames, 39);
    assert.equal(JSON.parse(salvaged.stdout).salvaged, true);
    assert.match(salvaged.stderr, /SALVAGED: 39 frames recovered, 1 lost/);

    const tail = await runAunet(['probe', `rec:${torn}`, '--json']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.match(tail.stderr, /warning: .*no clean end/);
    assert.ok(JSON.parse(tail.stdout).frames >= 30, 'every indexed frame replays');
  });
});
