// One abstract suite run against every frame source (shape of MQTT.js
// test/node/abstract_store.ts), on the real data in ../shared/data: counts,
// sizes, ids, timestamps, ground truth, early close, and record -> replay
// giving the same probe sha256.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { SOURCE_HELP, openSource, parseSpec } from '../../camera/source.js';
import { probeSource } from '../../camera/probe.js';
import { Recorder } from '../../camera/recorder.js';
import { listImageFolder } from '../../common/image-folder.js';
import { phantomFrames } from '../../camera/sources/phantom.js';
import { readGreyImage } from '../../common/image-io.js';
import type { Frame } from '../../camera/frame.js';
import { BUSI, CLIP, US1, YBR, tempDir } from './helpers.js';
import { runAunet } from '../support/aunet-cli.js';

interface Expect {
  frames: number;
  width?: number;
  height?: number;
  fps?: number;
  groundTruth?: boolean;
  /** known sha256 over the frames (from an independent decoder), when we have one */
  sha256?: string;
}

const tmp = tempDir('sources');
const BUSI_SUBSET = join(tmp.dir, 'busi-subset');
const BUSI_PICK = ['benign/benign (4)', 'benign/benign (100)', 'malignant/malignant (1)', 'normal/normal (1)'];

before(() => {
  // A small BUSI-layout folder (one image with two masks, one normal) keeps the suite fast;
  // the full folder's listing is checked separately below.
  for (const stem of BUSI_PICK) {
    const [cls, name] = stem.split('/');
    for (const f of readdirSync(join(BUSI, cls)).filter((f) => f === `${name}.png` || f.startsWith(`${name}_mask`))) {
      const d = join(BUSI_SUBSET, cls);
      copyTo(join(BUSI, cls, f), join(d, f));
    }
  }
});
after(() => tmp.remove());

function copyTo(from: string, to: string) {
  mkdirSync(join(to, '..'), { recursive: true });
  copyFileSync(from, to);
}

async function collect(spec: string, limit = Infinity): Promise<{ frames: Frame[]; info: object; state: string }> {
  const src = await openSource(spec);
  const frames: Frame[] = [];
  for await (const f of src) {
    frames.push(f);
    if (frames.length >= limit) break;
  }
  return { frames, info: src.info, state: src.state };
}

function abstractSourceSuite(name: string, spec: () => string, expect: Expect) {
  describe(`source ${name}`, () => {
    it('delivers the frames the data holds, with sizes, ids and timestamps', async () => {
      const src = await openSource(spec());
      assert.equal(src.info.live, false);
      const frames: Frame[] = [];
      for await (const f of src) frames.push(f);
      assert.equal(src.state, 'ended');
      assert.equal(frames.length, expect.frames);
      if (src.info.frameCount !== undefined) assert.equal(src.info.frameCount, expect.frames);
      frames.forEach((f, i) => {
        assert.equal(f.id, i, 'ids count up from 0 without gaps');
        if (expect.width) assert.equal(f.width, expect.width);
        if (expect.height) assert.equal(f.height, expect.height);
        assert.equal(f.pixels.length, f.width * f.height);
        assert.ok(f.pixels instanceof Uint8Array);
        assert.equal(typeof f.captureTime.monoNs, 'bigint');
        assert.ok(Number.isFinite(f.captureTime.wallMs));
        if (i > 0) assert.ok(f.captureTime.monoNs > frames[i - 1].captureTime.monoNs, `timestamps increase at frame ${i}`);
        if (expect.groundTruth) {
          assert.ok(f.groundTruth, `frame ${i} has ground truth`);
          assert.equal(f.groundTruth.length, f.width * f.height);
        }
      });
      // Not all frames are identical (a decoder that repeated one frame would pass the count).
      if (frames.length > 1) assert.notDeepEqual(frames[0].pixels, frames[frames.length - 1].pixels);
      if (expect.fps !== undefined) {
        assert.ok(Math.abs((src.info.fps ?? 0) - expect.fps) < 0.01, `fps ${src.info.fps}`);
        const span = Number(frames[frames.length - 1].captureTime.monoNs - frames[0].captureTime.monoNs) / 1e9;
        assert.ok(Math.abs((frames.length - 1) / span - expect.fps) < 0.05 * expect.fps, 'timestamps follow the frame rate');
      }
    });

    it('stops early on break and reports ended', async () => {
      const r = await collect(spec(), 2);
      assert.equal(r.frames.length, Math.min(2, expect.frames));
      assert.equal(r.state, 'ended');
    });

    it('records losslessly: the recording probes to the same sha256 and keeps timestamps and masks', async () => {
      const direct = await probeSource(await openSource(spec()));
      if (expect.sha256) assert.equal(direct.sha256, expect.sha256);
      const file = join(tmp.dir, `${name.replace(/\W+/g, '_')}.aurec`);
      const src = await openSource(spec());
      const rec = new Recorder(file, src.info, 'test', { force: true, flushFrames: 7 });
      const originals: Frame[] = [];
      for await (const f of src) {
        rec.append(f);
        originals.push(f);
      }
      rec.close();
      const back = await collect(`rec:${file}`);
      assert.equal(back.frames.length, originals.length);
      back.frames.forEach((f, i) => {
        const o = originals[i];
        assert.equal(f.id, o.id);
        assert.equal(f.captureTime.monoNs, o.captureTime.monoNs);
        assert.equal(f.captureTime.wallMs, o.captureTime.wallMs);
        assert.deepEqual(f.meta, o.meta);
        assert.deepEqual(f.groundTruth, o.groundTruth);
      });
      const replayed = await probeSource(await openSource(`rec:${file}`));
      assert.deepEqual(replayed, direct);
    });
  });
}

abstractSourceSuite('phantom', () => 'phantom:?size=96x64&fps=20&seed=5&frames=12', { frames: 12, width: 96, height: 64, fps: 20, groundTruth: true });
abstractSourceSuite('file (sonosite mp4)', () => `file:${CLIP}`, { frames: 100, width: 960, height: 720, fps: 25 });
abstractSourceSuite('dicom (JPEG baseline YBR cine)', () => `dicom:${YBR}`, { frames: 30, width: 320, height: 240, fps: 30 });
abstractSourceSuite('dicom (uncompressed RGB, single frame)', () => `dicom:${US1}`, { frames: 1, width: 640, height: 480 });
abstractSourceSuite('folder (BUSI layout)', () => `folder:${BUSI_SUBSET}`, { frames: BUSI_PICK.length, groundTruth: true, fps: 30 });
abstractSourceSuite('rec (a recording of the phantom)', () => {
  return `rec:${phantomRecording()}`;
}, { frames: 9, width: 64, height: 48, groundTruth: true });

let phantomRec: string | undefined;
function phantomRecording(): string {
  if (phantomRec) return phantomRec;
  phantomRec = join(tmp.dir, 'phantom-source.aurec');
  const rec = new Recorder(phantomRec, { spec: 'phantom', kind: 'phantom', live: false, fps: 30 }, 'test', { force: true });
  for (const f of phantomFrames(9, { width: 64, height: 48 })) rec.append(f);
  rec.close();
  return phantomRec;
}

describe('source data checks', () => {
  it('the full BUSI folder lists every image once, masks excluded, multi-lesion masks grouped', () => {
    const entries = listImageFolder(BUSI, { recursive: true });
    let images = 0;
    let masks = 0;
    for (const cls of readdirSync(BUSI)) {
      for (const f of readdirSync(join(BUSI, cls))) {
        if (/_mask(_\d+)?\.png$/.test(f)) masks++;
        else if (f.endsWith('.png')) images++;
      }
    }
    assert.equal(entries.length, images);
    assert.equal(entries.reduce((a, e) => a + e.masks.length, 0), masks);
    assert.ok(entries.every((e) => !/_mask/.test(e.image)));
    const b4 = entries.find((e) => e.image.endsWith('benign (4).png'));
    assert.equal(b4?.masks.length, 2);
    // numeric name order: "benign (2)" before "benign (10)"
    const i2 = entries.findIndex((e) => e.image.endsWith('benign (2).png'));
    const i10 = entries.findIndex((e) => e.image.endsWith('benign (10).png'));
    assert.ok(i2 < i10);
  });

  it('the full BUSI folder decodes: every image a frame with ground truth, empty exactly for normal/', async () => {
    const expected = readdirSync(BUSI).flatMap((cls) => readdirSync(join(BUSI, cls)).filter((f) => /\.png$/.test(f) && !/_mask/.test(f)).map(() => cls));
    let n = 0;
    for await (const f of await openSource(`folder:${BUSI}`)) {
      assert.ok(f.groundTruth, `${f.meta.file} has a mask`);
      const cls = String(f.meta.file).split('/')[0];
      assert.equal(f.groundTruth.some((v) => v !== 0), cls !== 'normal', `${f.meta.file}: lesion pixels iff not normal`);
      n++;
    }
    assert.equal(n, expected.length);
  });

  it('BUSI ground truth is the union of all masks of an image', async () => {
    const { frames } = await collect(`folder:${BUSI_SUBSET}`);
    const f = frames.find((x) => String(x.meta.file).endsWith('benign (4).png')) as Frame;
    const m0 = readGreyImage(join(BUSI, 'benign/benign (4)_mask.png')).data;
    const m1 = readGreyImage(join(BUSI, 'benign/benign (4)_mask_1.png')).data;
    let only1 = 0;
    for (let i = 0; i < m0.length; i++) {
      assert.equal(f.groundTruth![i] !== 0, m0[i] !== 0 || m1[i] !== 0);
      if (m1[i] && !m0[i]) only1++;
    }
    assert.ok(only1 > 0, 'the second mask adds lesion pixels');
  });

  it('a folder of RGB PNGs (the original BUSI release) gives the same grey frames', async () => {
    const img = readGreyImage(join(BUSI, 'malignant/malignant (1).png'));
    const rgb = new Uint8Array(img.data.length * 3);
    img.data.forEach((v, i) => rgb.fill(v, i * 3, i * 3 + 3));
    const d = join(tmp.dir, 'rgb');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'malignant (1).png'), encodePng({ width: img.width, height: img.height, data: rgb, channels: 3, depth: 8 }));
    const { frames } = await collect(`folder:${d}`);
    assert.deepEqual(frames[0].pixels, img.data);
  });

  it('the phantom is deterministic per seed, has moving lesions, and its mask marks dark tissue', async () => {
    const a = phantomFrames(6, { width: 80, height: 60, seed: 3 });
    const b = phantomFrames(6, { width: 80, height: 60, seed: 3 });
    const c = phantomFrames(6, { width: 80, height: 60, seed: 4 });
    assert.deepEqual(a.map((f) => f.pixels), b.map((f) => f.pixels));
    assert.notDeepEqual(a[0].pixels, c[0].pixels);
    assert.notDeepEqual(a[0].groundTruth, a[5].groundTruth, 'lesions move');
    for (const f of a) {
      let inSum = 0, inN = 0, outSum = 0, outN = 0;
      f.groundTruth!.forEach((m, i) => (m ? ((inSum += f.pixels[i]), inN++) : ((outSum += f.pixels[i]), outN++)));
      assert.ok(inN > 0, 'a lesion is visible');
      assert.ok(inSum / inN < outSum / outN - 30, 'lesions are hypoechoic');
    }
  });

  it('probe --json prints frames, size, fps and sha256 (CLI)', async () => {
    const r = await runAunet(['probe', `dicom:${YBR}`, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), ['frames', 'width', 'height', 'fps', 'sha256']);
    assert.equal(j.frames, 30);
    assert.equal(j.width, 320);
    assert.equal(j.height, 240);
    assert.ok(Math.abs(j.fps - 30) < 0.01);
    assert.match(j.sha256, /^[0-9a-f]{64}$/);
  });

  it('file: frames are exactly what ffmpeg decodes on its own, in order', async () => {
    const { spawnSync } = await import('node:child_process');
    const { createHash } = await import('node:crypto');
    const raw = spawnSync('ffmpeg', ['-v', 'error', '-i', CLIP, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 1 << 27 });
    assert.equal(raw.status, 0);
    assert.equal(raw.stdout.length, 100 * 960 * 720);
    const p = await probeSource(await openSource(`file:${CLIP}`));
    assert.equal(p.sha256, createHash('sha256').update(raw.stdout).digest('hex'));
  });

  it('guesses the scheme of a bare path', () => {
    assert.equal(parseSpec(CLIP).scheme, 'file');
    assert.equal(parseSpec(YBR).scheme, 'dicom');
    assert.equal(parseSpec(BUSI).scheme, 'folder');
    assert.equal(parseSpec('/dev/video0').scheme, 'v4l2');
    const rec = join(tmp.dir, 'x.aurec');
    writeFileSync(rec, '');
    assert.equal(parseSpec(rec).scheme, 'rec');
  });
});

describe('source help', () => {
  it('names every option a source reads (from its own "unknown option" message)', async () => {
    for (const [scheme, spec] of [['phantom', 'phantom:?zzz=1'], ['folder', `folder:${BUSI}?zzz=1`]]) {
      const err = await openSource(spec).then(
        () => null,
        (e: Error) => e,
      );
      const known = /options here: ([^)]+)\)/.exec(err?.message ?? '');
      assert.ok(known, `${spec}: ${err?.message}`);
      const help = SOURCE_HELP.split(', ').find((h) => h.startsWith(`${scheme}:`))!;
      for (const key of known[1].split(', ')) assert.match(help, new RegExp(`[?&]${key}=`), `${scheme}: option ${key} missing from "${help}"`);
    }
  });
});
