// The monitor's pure parts without a browser: the safety state machine and
// its timing on screen, the clock-offset estimate behind the latency badge,
// URL settings, the keys and the remembered view, the words for states, the
// automatic gate choice and the fleet's tile states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { SafetyMonitor, fnv1a } from '../../monitor/src/safety.js';
import { ClockOffset } from '../../monitor/src/clock.js';
import { resolveSettings } from '../../monitor/src/settings.js';
import { DEFAULT_VIEW, applyKey, loadView, saveView } from '../../monitor/src/view-state.js';
import { deviceLine, deviceWords } from '../../monitor/src/state-words.js';
import { GateChooser, chooseGate, gateContrast } from '../../monitor/src/gate-choice.js';
import { gateSize } from '../../contracts/frame-message.js';
import { testFrameMessage } from '../support/frame-fixture.js';
import { packageFile } from '../../common/package-root.js';

test('safety: connecting -> live -> stale -> live, with the configured limit', () => {
  const s = new SafetyMonitor(0, { staleMs: 500 });
  assert.equal(s.view(100).state, 'connecting');
  s.connected(200);
  assert.equal(s.view(300).state, 'connecting', 'waiting for a first frame');
  assert.equal(s.view(800).state, 'stale', 'connected but no frame for > 500 ms');
  s.frame(1, 900);
  assert.equal(s.view(900).state, 'live');
  assert.equal(s.view(1400).state, 'live', 'exactly 500 ms is still live');
  assert.equal(s.view(1401).state, 'stale');
  assert.match(s.view(1401).reason, /no new picture for 0\.5 s/);
  assert.equal(s.view(1401).since, 1400, 'stale since the last frame plus the threshold');
  s.frame(2, 1500);
  assert.equal(s.view(1500).state, 'live', 'recovers when frames return');
});

test('safety: offline on Last Will / stopped, on broker loss; a newer frame overrides an old retained offline', () => {
  const s = new SafetyMonitor(0);
  s.connected(0);
  s.status('offline', 10); // retained Will of an earlier run
  assert.equal(s.view(20).state, 'offline');
  assert.match(s.view(20).reason, /not reachable \(its connection was lost\)/);
  s.frame(1, 30);
  assert.equal(s.view(40).state, 'live', 'frames prove the device is up');
  s.status('offline', 50);
  assert.equal(s.view(60).state, 'offline');
  s.status('live', 70);
  s.frame(2, 80);
  s.status('stopped', 90);
  assert.match(s.view(100).reason, /the box was stopped/);
  s.disconnected(200);
  assert.equal(s.view(300).state, 'offline');
  assert.match(s.view(300).reason, /lost the connection to the broker 0\.1 s ago/);
  s.connected(400);
  s.status('live', 410);
  s.frame(3, 420);
  assert.equal(s.view(430).state, 'live');
});

test('safety: a box restarting its pipeline is updating (not stale) until frames return; no image is offline with the reason', () => {
  const s = new SafetyMonitor(0, { staleMs: 500 });
  s.connected(0);
  s.frame(1, 10);
  s.status('updating', 15, 'restarting (reboot)');
  s.status('stopped', 20);
  assert.equal(s.view(30).state, 'updating', "the old pipeline's `stopped` is part of the restart");
  s.status('updating', 25, 'starting firmware 2.0.0 on trial');
  assert.deepEqual(s.view(2000), { state: 'updating', frozen: false, reason: 'starting firmware 2.0.0 on trial', since: 25 });
  s.status('warming', 2100);
  assert.equal(s.view(3000).state, 'updating', 'warming, first frame still to come');
  assert.equal(s.view(2100 + 15_001).state, 'stale', 'a new pipeline that never sends a frame is not updating forever');
  s.frame(2, 2200);
  assert.equal(s.view(2210).state, 'live');
  s.status('stopped', 2300);
  assert.equal(s.view(2310).state, 'offline', 'a plain stop is a stop');
  s.status('no-image', 3000, 'no image has been flashed');
  assert.deepEqual(s.view(3010), { state: 'offline', frozen: false, reason: 'the box holds no firmware image: no image has been flashed', since: 3000 });
});

test('safety: a broker never reached is offline after the connect timeout', () => {
  const s = new SafetyMonitor(0, { connectTimeoutMs: 5000 });
  assert.equal(s.view(4999).state, 'connecting');
  assert.equal(s.view(5001).state, 'offline');
});

test('safety: frozen after identical pictures for > frozenMs, cleared by a new picture, never while stale', () => {
  const s = new SafetyMonitor(0, { staleMs: 500, frozenMs: 2000 });
  s.connected(0);
  for (let t = 0; t <= 2000; t += 100) s.frame(7, t);
  assert.equal(s.view(2000).frozen, false, 'exactly 2 s is not yet frozen');
  s.frame(7, 2100);
  assert.equal(s.view(2100).frozen, true);
  assert.match(s.view(2100).reason, /identical pictures for 2\.1 s/);
  assert.equal(s.view(2700).state, 'stale');
  assert.equal(s.view(2700).frozen, false);
  s.frame(8, 2800);
  assert.equal(s.view(2800).frozen, false);
});

test('fnv1a: known values, sensitive to one byte', () => {
  assert.equal(fnv1a(new Uint8Array()), 0x811c9dc5);
  assert.equal(fnv1a(new TextEncoder().encode('a')), 0xe40c292c);
  const a = new Uint8Array(16384).fill(9);
  const b = a.slice();
  b[12345] = 10;
  assert.notEqual(fnv1a(a), fnv1a(b));
});

test('clock offset: minimum of receive - publish over the window; latency corrected', () => {
  const c = new ClockOffset(10_000);
  assert.equal(c.latency(0, 0), null);
  // the page clock runs 5000 ms ahead of the device; transit 2..20 ms
  const offset = 5000;
  const transit = [20, 7, 2, 15, 9];
  transit.forEach((d, i) => c.observe(1000 + i * 33, 1000 + i * 33 + offset + d));
  assert.equal(c.offsetMs, offset + 2);
  // captured at 1200 (device), drawn at device time 1260 -> true latency 60, reported 58 (under by the fastest transit)
  assert.equal(c.latency(1200, 1260 + offset)!.latencyMs, 58);
  // the minimum leaves the window after 10 s, so the estimate follows a clock step
  c.observe(20_000, 20_000 + 3000 + 5);
  assert.equal(c.offsetMs, 3005);
});

test('settings: URL parameters override config.json; bad ones are reported, not used', () => {
  const loc = { protocol: 'http:', host: '127.0.0.1:8080' };
  const d = resolveSettings({ broker: null, device: null }, new URLSearchParams(''), loc);
  assert.deepEqual(d, { brokerUrl: 'ws://127.0.0.1:8080/mqtt', operators: null, device: null, staleMs: null, frozenMs: 2000, warnings: [] });
  assert.equal(resolveSettings({ broker: null, device: null, operators: false }, new URLSearchParams(''), loc).operators, false);
  const s = resolveSettings({ broker: 'ws://10.0.0.5:8080/mqtt', device: 'box-1' }, new URLSearchParams('stale=800&device=box-2'), { protocol: 'https:', host: 'x' });
  assert.equal(s.brokerUrl, 'ws://10.0.0.5:8080/mqtt');
  assert.equal(s.device, 'box-2');
  assert.equal(s.staleMs, 800);
  assert.equal(resolveSettings({}, new URLSearchParams(''), { protocol: 'https:', host: 'h:1' }).brokerUrl, 'wss://h:1/mqtt');
  const bad = resolveSettings({}, new URLSearchParams('stale=abc&broker=mqtt://x&device=a/b&frozen=5'), loc);
  assert.equal(bad.staleMs, null, 'a bad ?stale= leaves the computed threshold');
  assert.equal(bad.frozenMs, 2000);
  assert.equal(bad.brokerUrl, 'ws://127.0.0.1:8080/mqtt');
  assert.equal(bad.device, null);
  assert.equal(bad.warnings.length, 4);
  assert.match(bad.warnings.join('\n'), /stale=abc.*\n.*frozen=5|stale=abc/s);
});

test('settings: a link cannot move the page to another broker, only to one config.json lists', () => {
  const loc = { protocol: 'http:', host: '127.0.0.1:8080' };
  const evil = resolveSettings({ broker: null, device: null }, new URLSearchParams('broker=ws://attacker.example/mqtt'), loc);
  assert.equal(evil.brokerUrl, 'ws://127.0.0.1:8080/mqtt');
  assert.match(evil.warnings.join('\n'), /broker=ws:\/\/attacker\.example\/mqtt: not a broker this page may use/);
  const listed = resolveSettings({ broker: 'ws://a:1/mqtt', brokers: ['ws://b:2/mqtt'], device: null }, new URLSearchParams('broker=ws://b:2/mqtt'), loc);
  assert.equal(listed.brokerUrl, 'ws://b:2/mqtt');
  assert.deepEqual(listed.warnings, []);
});

test('keys: every key listed on screen changes the view; others do nothing', () => {
  const html = readFileSync(packageFile('monitor/index.html'), 'utf8');
  const footer = /<footer id="keys"[\s\S]*?<\/footer>/.exec(html)![0];
  const keys = [...footer.matchAll(/<kbd>(.+?)<\/kbd>/g)].map((m) => m[1]);
  assert.ok(keys.length >= 8, `keys on screen: ${keys.join(' ')}`);
  const all = new Set(keys.flatMap((k) => (k === '1' ? ['1', '2', '3', '4'] : [k])));
  for (const k of all) {
    const start = { ...DEFAULT_VIEW, gate: 3 as const, autoGate: false, overlay: 'none' as const, opacity: 0.5 };
    const v = applyKey(start, k);
    assert.ok(v, `key ${k} shown on screen but not handled`);
    assert.notDeepEqual(v, start, `key ${k} changes nothing`);
  }
  assert.equal(applyKey(DEFAULT_VIEW, 'x'), null);
  assert.equal(applyKey(DEFAULT_VIEW, '5'), null);
  assert.deepEqual(applyKey(DEFAULT_VIEW, '0'), { ...DEFAULT_VIEW, gate: 0, autoGate: false });
  assert.equal(applyKey({ ...DEFAULT_VIEW, autoGate: false }, 'g')!.autoGate, true, 'g: back to the automatic choice');
  assert.equal(applyKey({ ...DEFAULT_VIEW, overlay: 'none' }, '2')!.overlay, 'attention');
  assert.equal(applyKey({ ...DEFAULT_VIEW, opacity: 1 }, ']')!.opacity, 1);
  assert.equal(applyKey({ ...DEFAULT_VIEW, opacity: 0.1 }, '[')!.opacity, 0);
  let v = DEFAULT_VIEW;
  for (let i = 0; i < 3; i++) v = applyKey(v, 'o')!;
  assert.equal(v.overlay, DEFAULT_VIEW.overlay, 'o cycles through three overlays');
});

test('build: deterministic bytes, nothing fetched from elsewhere (no http(s) URL in the bundle)', () => {
  const dist = new URL('../../monitor/dist/', import.meta.url);
  const files = ['index.html', 'monitor.css', 'monitor.js'];
  const build = () => {
    const r = spawnSync(process.execPath, ['monitor/build.js'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return files.map((f) => createHash('sha256').update(readFileSync(new URL(f, dist))).digest('hex'));
  };
  const first = build();
  assert.deepEqual(build(), first, 'two builds give the same bytes');
  for (const f of files) {
    const text = readFileSync(new URL(f, dist), 'utf8');
    assert.doesNotMatch(text, /https?:\/\//, `${f} refers to a network resource`);
  }
  const html = readFileSync(new URL('index.html', dist), 'utf8');
  assert.match(html, /<script type="module" src="monitor\.js">/);
  assert.match(html, /NOT FOR DIAGNOSTIC USE/);
});

test('view memory: an operator\'s choice survives a reload; damaged or foreign entries fall back field by field', () => {
  const store = new Map<string, string>();
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
  assert.deepEqual(loadView(storage), DEFAULT_VIEW, 'nothing stored: the defaults (automatic gate)');
  const chosen = { ...applyKey(DEFAULT_VIEW, '2')!, colormap: 'viridis' as const, opacity: 0.7 };
  saveView(storage, chosen);
  assert.deepEqual(loadView(storage), chosen);
  store.set('aunet-monitor.view', JSON.stringify({ gate: 9, autoGate: 'yes', overlay: 'prob', colormap: 'rainbow', opacity: 2 }));
  assert.deepEqual(loadView(storage), { ...DEFAULT_VIEW, overlay: 'prob' });
  store.set('aunet-monitor.view', '{not json');
  assert.deepEqual(loadView(storage), DEFAULT_VIEW);
  assert.deepEqual(loadView(null), DEFAULT_VIEW, 'no storage (private window)');
  assert.doesNotThrow(() => saveView({ setItem: () => { throw new Error('quota'); } }, chosen));
});

test('state words: reason codes become what an operator understands', () => {
  const st = { state: 'degraded', reasons: ['falling-behind'], source: { live: true } };
  assert.equal(deviceLine(st, { fps: { in: 30, out: 12.4 } }), 'falling behind: showing 12 of 30 frames per second');
  assert.equal(deviceLine(st, null), 'falling behind: not every picture is shown');
  assert.equal(deviceLine({ state: 'live' }), 'running');
  assert.equal(deviceLine({ state: 'live', paused: true }), 'running; paused by an operator');
  assert.equal(deviceLine({ state: 'degraded', reasons: ['source-ended'] }), 'the source has played to its end: no new pictures');
  assert.equal(deviceLine({ state: 'degraded', reasons: ['source-lost', 'engine-fallback'] }), 'the camera signal is lost: reconnecting; running on the slower backup engine');
  assert.equal(deviceLine({ state: 'warming' }), 'starting: the first pictures warm up the model');
  assert.equal(deviceLine(null), 'no status yet');
  assert.deepEqual(deviceWords({ state: 'degraded', reasons: ['some-new-code'] }).details, ['some new code'], 'an unknown code is shown, not dropped');
  for (const code of ['falling-behind', 'source-lost', 'source-ended', 'engine-fallback']) assert.doesNotMatch(deviceLine({ state: 'degraded', reasons: [code] }), /-/, `${code} has words`);
});

test('gate choice: the finest gate with at least 80 % of the largest contrast; a flat gate is never chosen over a contrasted one', () => {
  // the shipped model's profile: gates 1-3 near-binary (std ~0.45), gate 4 ~0.98 everywhere (std ~0.12)
  assert.equal(chooseGate([0.47, 0.46, 0.44, 0.12]), 3);
  assert.equal(chooseGate([0.33, 0.32, 0.36, 0.23]), 3);
  assert.equal(chooseGate([0.1, 0.4, 0.2, 0.39]), 4);
  assert.equal(chooseGate([0.4, null, null, null]), 1, 'only gate 1 published');
  assert.equal(chooseGate([0.01, 0.005, 0.0, 0.01]), 0, 'all flat: show all four');
  assert.equal(chooseGate([null, null, null, null]), 0);
  // contrast is measured over the image content only: letterbox cells do not count
  const m = testFrameMessage(64, 64);
  const { width: gw, height: gh } = gateSize(4, 64, 64);
  m.content = { x: 0, y: 16, width: 64, height: 32 };
  const a4 = new Uint8Array(gw * gh).fill(250);
  for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) if (y < 8 || y >= 24) a4[y * gw + x] = 0; // dark letterbox rows
  m.attention[3] = a4;
  assert.ok(gateContrast(m)[3]! < 1e-9, 'flat over the content although the letterbox differs');
  const c = new GateChooser();
  c.setModel('A');
  for (let i = 0; i < 10; i++) c.observe(m);
  assert.notEqual(c.choice, 4, 'the flat gate is not chosen');
  const first = c.choice;
  m.attention[3] = Uint8Array.from({ length: gw * gh }, (_, i) => (i % 2 ? 255 : 0));
  c.observe(m);
  assert.equal(c.choice, first, 'fixed after the first frames: the view does not jump');
  c.setModel('B');
  assert.equal(c.choice, null, 'another model: chosen again');
  assert.equal(c.observe(m), 4);
});
