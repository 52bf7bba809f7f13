// `aunet run` and `aunet monitor` as users start them: the no-argument run
// prints the monitor URL and stops cleanly on SIGTERM; bad flags exit 2 naming
// the flag; `aunet monitor` serves the page's config for its broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAunet } from '../../support/aunet-cli.js';

const AUNET = ['bin/aunet.js'];

test('aunet run with no model/source arguments: demo stream, monitor URL, clean stop', { timeout: 60_000 }, async () => {
  const run = startAunet(['run', '--port', '0', '--http-port', '0', '--device', 'cli-demo']);
  try {
    const m = await run.waitFor(/Monitor: (http:\/\/127\.0\.0\.1:\d+\/)/, 40_000);
    await run.waitFor(/MQTT: mqtt:\/\/127\.0\.0\.1:\d+ {2}WebSocket: ws:\/\/127\.0\.0\.1:\d+\/mqtt/, 1000);
    assert.match(run.out(), /source phantom:\?fps=30&frames=0/);
    const cfg = (await (await fetch(`${m[1]}config.json`)).json()) as { device: string; operators: boolean };
    assert.equal(cfg.device, 'cli-demo');
    assert.equal(cfg.operators, true, 'the first start created an operator');
    // what any web page can make the operator's browser request: answered, never fatal
    for (const path of ['%ff', '..%c0%af..', '%E0%A4%A']) assert.equal((await fetch(`${m[1]}${path}`)).status, 400, path);
    assert.equal((await fetch(`${m[1]}config.json`)).status, 200, 'still serving');
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 0);
    assert.match(run.err(), /"state":"stopped"/);
  } finally {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  }
});

test('bad flags and files: exit code, message naming the flag or file', async () => {
  const busy = createServer().listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const busyPort = String((busy.address() as AddressInfo).port);
  const dir = mkdtempSync(join(tmpdir(), 'aunet-cli-'));
  const tlsConfig = join(dir, 'tls.yaml');
  writeFileSync(tlsConfig, 'broker:\n  url: mqtts://127.0.0.1:1\n  tls:\n    ca: /nonexistent/ca.pem\n');
  const cases: [string[], number, RegExp][] = [
    [['run', '--config', tlsConfig], 1, /the broker CA certificate \(broker\.tls\.ca\) not found \(\/nonexistent\/ca\.pem\)/],
    [['run', '--model', 'random:F4x64', '--port', busyPort, '--http-port', '0'], 2, new RegExp(`127\\.0\\.0\\.1:${busyPort} for the MQTT port.*already in use`)],
    [['run', '--port', 'x'], 2, /not x \(--port\)/],
    [['run', '--device', 'a/b'], 2, /--device \(device\)/],
    [['run', '--engine', 'gpu'], 2, /'gpu' is invalid; choose one of chip, direct \(--engine/],
    [['run', '--config', '/nonexistent/aunet.yaml'], 1, /config not found \(\/nonexistent\/aunet\.yaml\)/],
    [['run', '--model', '/nonexistent/m.aunet', '--port', '0', '--http-port', '0'], 1, /model not found \(\/nonexistent\/m\.aunet\)/],
    [['run', '--source', 'bogus:x', '--model', 'random:F4x64', '--port', '0', '--http-port', '0'], 2, /unknown source scheme "bogus:"/],
    [['monitor', '--broker', 'http://x'], 2, /--broker http:\/\/x: give mqtt:\/\/HOST:PORT/],
    [['run', '--broker', 'mqtt://127.0.0.1:1', '--username', 'u', '--password', 'visible-in-ps'], 2, /--password would show the password .*--password-file FILE.*AUNET_BROKER_PASSWORD/],
    [['run', '--broker', 'mqtt://127.0.0.1:1', '--username', 'u', '--password-file', '/nonexistent/pw'], 1, /the broker password file \(broker\.passwordFile\) not found \(\/nonexistent\/pw\)/],
    [['run', '--broker', 'mqtt://127.0.0.1:1', '--username', 'u'], 2, /username and password/],
  ];
  try {
    for (const [args, code, re] of cases) {
      const r = spawnSync(process.execPath, [...AUNET, ...args], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
      assert.match(r.stderr, re, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.status, code, `${args.join(' ')} exit code (stderr ${r.stderr})`);
      assert.doesNotMatch(r.stderr, /internal error/, args.join(' '));
    }
  } finally {
    // a listening server left open keeps this test file alive, and the whole suite waits on it
    busy.close();
    rmSync(dir, { recursive: true });
  }
});

test('aunet monitor serves the page config for its broker', { timeout: 30_000 }, async () => {
  const mon = startAunet(['monitor', '--broker', 'ws://10.0.0.5:8080/mqtt', '--port', '0', '--device', 'box-1']);
  try {
    const m = await mon.waitFor(/Monitor: (http:\/\/127\.0\.0\.1:\d+\/)/, 20_000);
    const r = await fetch(`${m[1]}config.json`);
    assert.deepEqual(await r.json(), { broker: 'ws://10.0.0.5:8080/mqtt', device: 'box-1', operators: null });
    assert.match(r.headers.get('content-security-policy') ?? '', /connect-src 'self' ws:\/\/10\.0\.0\.5:8080;/, 'the page may connect to its broker and nowhere else');
    for (const path of ['%ff', '..%c0%af..', '%E0%A4%A']) assert.equal((await fetch(`${m[1]}${path}`)).status, 400, path);
    assert.equal((await fetch(`${m[1]}config.json`)).status, 200, 'still serving');
    mon.child.kill('SIGTERM');
    assert.equal(await mon.exit, 0);
  } finally {
    if (mon.child.exitCode === null) mon.child.kill('SIGKILL');
  }
});
