// The fleet view's model without a browser: devices discovered and never
// dropped, tile states (what the box says, or "no data" when it went silent),
// the last-seen time of an offline box, and the summary line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FleetState, NO_DATA_MS, ago, fleetSummary, tileView } from '../../monitor/src/fleet-state.js';
import { encodeThumbnail, thumbnailOf } from '../../contracts/thumbnail.js';
import { testFrameMessage } from '../support/frame-fixture.js';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const LIVE = { state: 'live', online: true, model: { name: 'busi-lite', sha256: '9f1c2a3b4c5d' }, software: { version: '0.1.0' }, firmware: { version: '1.2.3' } };

test('fleet: tiles from status, stats and thumbnails; offline keeps the name of what it ran and when it was last seen', () => {
  const f = new FleetState();
  f.message('box-10', 'status', json(LIVE), 1000);
  f.message('box-2', 'stats', json({ fps: { in: 30, out: 29.5 } }), 1000);
  f.message('box-2', 'thumb', encodeThumbnail(thumbnailOf(testFrameMessage(64, 64))), 1100);
  assert.deepEqual(f.ids(), ['box-2', 'box-10'], 'natural order, stable');
  assert.equal(f.devices.get('box-2')!.thumb!.width, 64);
  assert.equal(tileView(f.devices.get('box-10')!, 1500).state, 'live');
  assert.equal(tileView(f.devices.get('box-2')!, 1500).words, 'running (no status yet)');
  f.message('box-10', 'status', json({ state: 'offline', online: false, device: 'box-10', since: 5 }), 4000);
  const r = f.devices.get('box-10')!;
  assert.deepEqual(tileView(r, 4100), { state: 'offline', words: 'offline: its connection was lost' });
  assert.equal(r.lastSeen, 1000, 'last seen: the last message of the running box, not the Will');
  assert.equal(r.status!.model!.name, 'busi-lite', 'the Will has no model; the tile keeps the one it ran');
  assert.equal(r.status!.firmware!.version, '1.2.3');
  f.message('box-10', 'status', json(LIVE), 9000);
  assert.equal(tileView(r, 9100).state, 'live', 'restarted: live again');
  assert.equal(f.devices.size, 2, 'never dropped');
});

test('fleet: a box that claims to run but sends nothing is "no data" after NO_DATA_MS; a retained offline from before the page is dated as such', () => {
  const f = new FleetState();
  f.message('a', 'status', json(LIVE), 0);
  f.message('a', 'stats', json({}), 1000);
  assert.equal(tileView(f.devices.get('a')!, 1000 + NO_DATA_MS).state, 'live');
  const v = tileView(f.devices.get('a')!, 1001 + NO_DATA_MS);
  assert.equal(v.state, 'stale');
  assert.match(v.words, /no data for 3\.5 s/);
  f.message('b', 'status', json({ state: 'offline', online: false }), 50);
  assert.equal(f.devices.get('b')!.lastSeen, null, 'seen before this page opened');
  f.message('c', 'status', json({ state: 'stopped', online: false, ts: 42 }), 60);
  assert.equal(f.devices.get('c')!.lastSeen, 42);
  f.message('d', 'status', json({ ...LIVE, paused: true }), 0);
  assert.deepEqual(tileView(f.devices.get('d')!, 10), { state: 'paused', words: 'running; paused by an operator' });
  f.message('e', 'status', json({ state: 'degraded', reasons: ['falling-behind'] }), 0);
  f.message('e', 'stats', json({ fps: { in: 30, out: 12 } }), 0);
  assert.equal(tileView(f.devices.get('e')!, 10).words, 'falling behind: showing 12 of 30 frames per second');
});

test('fleet: damaged messages do not break the page; the summary counts states in words', () => {
  const f = new FleetState();
  assert.equal(f.message('x', 'status', new TextEncoder().encode('not json'), 0), null);
  assert.equal(f.message('x', 'status', json({ online: true }), 0), null, 'a status needs a state');
  const r = f.message('x', 'thumb', new Uint8Array(10), 0)!;
  assert.equal(r.badThumbs, 1);
  assert.equal(r.thumb, null);
  assert.equal(f.message('x', 'frame', new Uint8Array(10), 0), null, 'frames are the device view\'s');
  assert.equal(fleetSummary([{ state: 'live', words: '' }, { state: 'offline', words: '' }, { state: 'live', words: '' }]), '3 devices: 1 offline, 2 live');
  assert.equal(fleetSummary([]), '0 devices');
  assert.deepEqual([ago(400), ago(12_300), ago(300_000), ago(4 * 3_600_000)], ['0.4 s', '12 s', '5 min', '4 h']);
});
