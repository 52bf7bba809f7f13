// The frame message codec (docs/mqtt.md "frame") and the cmd validators.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFrameMessage,
  encodeFrameMessage,
  FRAME_DECISION_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  frameMessageBytes,
  MAX_CONTOUR_POINTS,
  PayloadError,
  restampFrameMessage,
  type FrameMessage,
} from '../../contracts/frame-message.js';
import { testFrameMessage as message } from '../support/frame-fixture.js';
import { parseCommand, thresholdByte } from '../../contracts/command.js';
import { isCmdTopic, topicsFor } from '../../contracts/topics.js';

test('frame message round-trips every field', () => {
  const m = message(128, 96, [true, false, true, true]);
  const bytes = encodeFrameMessage(m);
  assert.equal(bytes.length, frameMessageBytes(128, 96, [true, false, true, true], 2 + 2 + 12 + 2 + 4));
  const d = decodeFrameMessage(bytes);
  for (const k of ['frameId', 'captureTime', 'publishTime', 'cycles', 'lesionArea', 'meanConfidence', 'width', 'height', 'threshold', 'state'] as const) {
    assert.equal(d[k], m[k], k);
  }
  assert.deepEqual(d.content, m.content);
  assert.deepEqual(d.frame, m.frame);
  assert.deepEqual(d.mask, m.mask);
  assert.deepEqual(d.prob, m.prob);
  assert.equal(d.attention[1], null);
  assert.deepEqual(d.attention[0], m.attention[0]);
  assert.deepEqual(d.attention[3], m.attention[3]);
  assert.deepEqual(d.contours, m.contours);
});

test('the lesion-present decision: round trip, and a reader of the 64-byte header finds the same sections', () => {
  const plain = message(64, 64);
  for (const lesion of [true, false]) {
    const m = { ...plain, decision: { lesion, score: lesion ? 0.875 : 0.5, threshold: 0.75 } };
    const bytes = encodeFrameMessage(m);
    const d = decodeFrameMessage(bytes);
    assert.deepEqual(d.decision, m.decision);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    assert.equal(dv.getUint8(4), 1, 'still version 1');
    assert.equal(dv.getUint16(6, true), FRAME_DECISION_HEADER_BYTES);
    assert.equal(dv.getUint8(5) & 0x0f, 0x0f, 'gate bits unchanged');
    assert.equal((dv.getUint8(5) & 0x20) !== 0, lesion);
    // everything after the header is byte for byte the message without the decision
    const old = encodeFrameMessage(plain);
    assert.deepEqual(bytes.subarray(FRAME_DECISION_HEADER_BYTES), old.subarray(FRAME_HEADER_BYTES));
    assert.deepEqual(bytes.subarray(8, 64), old.subarray(8, 64));
  }
  assert.equal(decodeFrameMessage(encodeFrameMessage(plain)).decision, undefined, 'no decision: the 64-byte header of before');
  const bad = encodeFrameMessage(plain);
  bad[5] |= 0x20;
  assert.throws(() => decodeFrameMessage(bad), /lesion flag set without the decision flag/);
  bad[5] |= 0x10;
  assert.throws(() => decodeFrameMessage(bad), /decision flag set but the header is 64 bytes/);
});

test('byte layout matches docs/mqtt.md', () => {
  const m = message(16, 16);
  m.mask.fill(0);
  m.mask[0] = 1; // MSB of the first mask byte
  m.mask[9] = 1; // bit 6 of the second
  const b = encodeFrameMessage(m);
  assert.deepEqual([...b.subarray(0, 5)], [0x41, 0x55, 0x4e, 0x46, 1]);
  assert.equal(b[5], 0b1111);
  const dv = new DataView(b.buffer);
  assert.equal(dv.getUint16(6, true), 64);
  assert.equal(dv.getFloat64(8, true), 123456789);
  assert.equal(dv.getUint16(48, true), 16);
  assert.equal(b[52], 128);
  assert.equal(b[53], 1);
  assert.equal(b[64], m.frame[0]);
  assert.equal(b[64 + 256], 0x80);
  assert.equal(b[64 + 256 + 1], 0x40);
  assert.equal(b[64 + 256 + 32], m.prob[0]);
  // a1 of 16x16 is 1x1, a4 is 8x8
  assert.equal(b[64 + 256 + 32 + 256], m.attention[0]![0]);
});

test('a 160x160 message with all gates and the longest contour stays within 64 KiB', () => {
  const m = message(160, 160);
  const per = MAX_CONTOUR_POINTS / 8;
  m.contours = Array.from({ length: 8 }, () => new Uint16Array(per * 2).fill(7));
  const b = encodeFrameMessage(m);
  assert.ok(b.length <= 65536, `${b.length} bytes`);
  assert.equal(b.length, 65030);
});

test('decoder rejects damaged messages with a named reason', () => {
  const b = encodeFrameMessage(message(32, 32));
  assert.throws(() => decodeFrameMessage(b.subarray(0, 40)), PayloadError);
  assert.throws(() => decodeFrameMessage(b.subarray(0, b.length - 1)), /expected/);
  const bad = b.slice();
  bad[0] = 0;
  assert.throws(() => decodeFrameMessage(bad), /magic/);
  const v2 = b.slice();
  v2[4] = 2;
  assert.throws(() => decodeFrameMessage(v2), /version 2/);
  assert.throws(() => encodeFrameMessage({ ...message(32, 32), prob: new Uint8Array(5) }), /prob has 5 bytes/);
});

test('commands: valid ones parse, malformed ones name the field', () => {
  assert.deepEqual(parseCommand('{"cmd":"pause"}'), { ok: true, command: { cmd: 'pause' } });
  assert.deepEqual(parseCommand('{"cmd":"gates","gates":[1,4],"id":"x"}'), { ok: true, command: { cmd: 'gates', gates: [1, 4], id: 'x' } });
  assert.equal(thresholdByte(0.5), 128);
  const cases: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['{"cmd":"reboot"}', /cmd/],
    ['{"cmd":"threshold","value":1.5,"id":"t1"}', /value/],
    ['{"cmd":"threshold"}', /value/],
    ['{"cmd":"gates","gates":[0]}', /gates\.0/],
    ['{"cmd":"gates","gates":[2,2]}', /repeat/],
    ['{"cmd":"pause","extra":1}', /extra/],
    ['[1,2]', /./],
  ];
  for (const [text, re] of cases) {
    const r = parseCommand(new TextEncoder().encode(text));
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.error, re, text);
  }
  const withId = parseCommand('{"cmd":"threshold","value":1.5,"id":"t1"}');
  assert.equal(!withId.ok && withId.id, 't1');
  assert.equal(parseCommand('x'.repeat(5000)).ok, false);
});

test('topics', () => {
  const t = topicsFor('box-1');
  assert.equal(t.frame, 'aunet/box-1/frame');
  assert.ok(isCmdTopic(t.cmd));
  assert.ok(!isCmdTopic(t.cmdReply));
  assert.throws(() => topicsFor('a/b'), /device id/);
  assert.throws(() => topicsFor('#'), /device id/);
});

test('restamp: new id and times, every other byte as recorded; not a frame message -> PayloadError', () => {
  const bytes = encodeFrameMessage(message(32, 32));
  const r = restampFrameMessage(bytes, 42, 1000.5, 1010.25);
  const d = decodeFrameMessage(r);
  assert.deepEqual([d.frameId, d.captureTime, d.publishTime], [42, 1000.5, 1010.25]);
  assert.deepEqual(r.subarray(32), bytes.subarray(32));
  assert.equal(decodeFrameMessage(bytes).frameId, 123456789, 'the recorded message is left as it was');
  assert.throws(() => restampFrameMessage(new Uint8Array(10), 1, 1, 1), PayloadError);
  assert.throws(() => restampFrameMessage(new Uint8Array(64), 1, 1, 1), /bad magic/);
});
