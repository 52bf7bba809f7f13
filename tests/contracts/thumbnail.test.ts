// The thumb topic's message (docs/mqtt.md "thumb"): what it keeps of a frame,
// its codec, its size budget and its pacing in the live service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrameMessage, PayloadError } from '../../contracts/frame-message.js';
import { decodeThumbnail, encodeThumbnail, thumbnailOf, thumbnailSize, THUMB_HEADER_BYTES } from '../../contracts/thumbnail.js';
import { ThumbnailPacer } from '../../host/publish/thumbnails.js';
import { testFrameMessage } from '../support/frame-fixture.js';

test('thumbnail: the content without its letterbox, box-averaged to at most 64 px, mask at the pixel centres', () => {
  const m = testFrameMessage(128, 128);
  m.content = { x: 0, y: 32, width: 128, height: 64 };
  m.frame.fill(0);
  m.mask.fill(0);
  // left half of the content bright, a 4 x 4 lesion block at content (64..67, 16..19)
  for (let y = 32; y < 96; y++) for (let x = 0; x < 64; x++) m.frame[y * 128 + x] = 200;
  for (let y = 48; y < 52; y++) for (let x = 64; x < 68; x++) m.mask[y * 128 + x] = 1;
  const t = thumbnailOf(m);
  assert.deepEqual([t.width, t.height], [64, 32], 'aspect of the content, longest side 64');
  assert.equal(t.grey[5 * 64 + 10], 200);
  assert.equal(t.grey[5 * 64 + 40], 0);
  assert.equal(t.grey.reduce((a, v) => a + v, 0), 200 * 32 * 32, 'letterbox bars (black) not averaged in: exactly half the pixels at 200');
  const lesion = [...t.mask.keys()].filter((p) => t.mask[p]);
  assert.deepEqual(lesion, [8 * 64 + 32, 8 * 64 + 33, 9 * 64 + 32, 9 * 64 + 33]);
  assert.deepEqual(thumbnailSize(40, 30), { width: 40, height: 30 }, 'never enlarged');
});

test('thumbnail codec: round trip, size budget, damaged messages rejected with the reason', () => {
  const m = testFrameMessage(128, 128);
  m.content = { x: 0, y: 0, width: 128, height: 128 };
  const t = thumbnailOf(m);
  const bytes = encodeThumbnail(t);
  assert.equal(bytes.length, 4640, 'the documented size at 64 x 64');
  assert.deepEqual(decodeThumbnail(bytes), t);
  assert.throws(() => decodeThumbnail(bytes.subarray(0, 20)), /shorter than its 32-byte header/);
  assert.throws(() => decodeThumbnail(bytes.subarray(0, bytes.length - 1)), /4639 bytes; 64x64 needs 4640/);
  const bad = bytes.slice();
  bad[0] = 0;
  assert.throws(() => decodeThumbnail(bad), PayloadError);
  const big = bytes.slice();
  new DataView(big.buffer).setUint16(24, 65, true);
  assert.throws(() => decodeThumbnail(big), /65x64 outside 1\.\.64/);
  assert.ok(THUMB_HEADER_BYTES === 32);
});

test('thumbnail pacer: one per interval from the frames offered, none when the interval is 0', () => {
  const frame = encodeFrameMessage(testFrameMessage(64, 64));
  const p = new ThumbnailPacer(1000);
  const sent = [0, 300, 999, 1000, 1500, 2100].filter((t) => p.offer(frame, t) !== null);
  assert.deepEqual(sent, [0, 1000, 2100]);
  assert.equal(decodeThumbnail(new ThumbnailPacer(1000).offer(frame, 0)!).frameId, 123456789);
  assert.equal(new ThumbnailPacer(0).offer(frame, 0), null);
});
