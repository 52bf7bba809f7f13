// Uncompressed multi-frame DICOM paths the shared data does not cover: grey
// 8-bit cine with an irregular Frame Time Vector, 16-bit MONOCHROME1, planar RGB.
// The files are written here byte by byte (explicit VR little endian, Part 10).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSource } from '../../camera/source.js';
import type { Frame } from '../../camera/frame.js';
import { tempDir } from './helpers.js';
import { dicomFile, greyCine, type El } from './dicom-writer.js';

const tmp = tempDir('dicom');
after(() => tmp.remove());

async function frames(file: string): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of await openSource(`dicom:${file}`)) out.push(f);
  return out;
}

describe('uncompressed DICOM', () => {
  it('8-bit MONOCHROME2 cine: every frame, timestamps from the Frame Time Vector', async () => {
    const w = 5, h = 4, n = 3;
    const px = Buffer.alloc(w * h * n);
    px.forEach((_, i) => (px[i] = (i * 7) & 255));
    const file = join(tmp.dir, 'cine.dcm');
    writeFileSync(file, greyCine({ width: w, height: h, frames: n, pixels: px, frameTimes: '0\\50\\100' }));
    const fr = await frames(file);
    assert.equal(fr.length, 3);
    fr.forEach((f, i) => assert.deepEqual(Buffer.from(f.pixels), px.subarray(i * w * h, (i + 1) * w * h)));
    assert.deepEqual(fr.map((f) => Number(f.captureTime.monoNs) / 1e6), [0, 50, 150]);
  });

  it('16-bit MONOCHROME1 (12 bits stored) is scaled to 8 bits and inverted', async () => {
    const vals = [0, 4095, 2048, 16];
    const px = Buffer.alloc(8);
    vals.forEach((v, i) => px.writeUInt16LE(v, i * 2));
    const file = join(tmp.dir, 'mono1.dcm');
    writeFileSync(file, dicomFile([
      [0x0018, 0x1063, 'DS', '40'],
      [0x0028, 0x0002, 'US', 1],
      [0x0028, 0x0004, 'CS', 'MONOCHROME1'],
      [0x0028, 0x0010, 'US', 2],
      [0x0028, 0x0011, 'US', 2],
      [0x0028, 0x0100, 'US', 16],
      [0x0028, 0x0101, 'US', 12],
      [0x0028, 0x0103, 'US', 0],
      [0x7fe0, 0x0010, 'OW', px],
    ]));
    const src = await openSource(`dicom:${file}`);
    assert.equal(src.info.fps, 25);
    const [f] = await frames(file);
    assert.deepEqual([...f.pixels], vals.map((v) => 255 - (v >> 4)));
  });

  it('planar RGB uses BT.601 luma; a short Pixel Data is reported as truncated', async () => {
    // 2 pixels, planes R R G G B B
    const px = Buffer.from([255, 0, 0, 255, 0, 0]);
    const base: El[] = [
      [0x0028, 0x0002, 'US', 3],
      [0x0028, 0x0004, 'CS', 'RGB'],
      [0x0028, 0x0006, 'US', 1],
      [0x0028, 0x0010, 'US', 1],
      [0x0028, 0x0011, 'US', 2],
      [0x0028, 0x0100, 'US', 8],
      [0x0028, 0x0101, 'US', 8],
    ];
    const file = join(tmp.dir, 'rgb.dcm');
    writeFileSync(file, dicomFile([...base, [0x7fe0, 0x0010, 'OB', px]]));
    const [f] = await frames(file);
    assert.deepEqual([...f.pixels], [(77 * 255 + 128) >> 8, (150 * 255 + 128) >> 8]);
    const short = join(tmp.dir, 'short.dcm');
    const withCount: El[] = [...base.slice(0, 3), [0x0028, 0x0008, 'IS', '4'], ...base.slice(3), [0x7fe0, 0x0010, 'OB', px]]; // tags ascending
    writeFileSync(short, dicomFile(withCount));
    await assert.rejects(openSource(`dicom:${short}`), /truncated: Pixel Data holds 6 bytes, 4 frame\(s\) of 2x1x3 need 24/);
  });
});
