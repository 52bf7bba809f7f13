// The HTTP layer of both servers (embedded broker port, `aunet monitor`): what
// an attacker's request line or headers can do is answer an error, never end
// the process; every response carries the security headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuardedServer, hostAllowed, judgeRequest, securityHeaders } from '../../../host/publish/http-guard.js';
import { monitorHandler } from '../../../host/publish/static-files.js';
import { judgeUpgrade } from '../../../host/publish/websocket-origin.js';

/** Send raw bytes, return the whole answer (the server closes or we stop after `ms`). */
export function rawRequest(port: number, bytes: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const done = () => {
      clearTimeout(t);
      s.destroy();
      resolve(out);
    };
    const t = setTimeout(done, ms);
    s.on('data', (d) => {
      out += d.toString('latin1');
      if (/\r\n\r\n/.test(out) && /connection: close|content-length: \d+\r\n/i.test(out)) {
        const m = /content-length: (\d+)/i.exec(out);
        const body = out.split('\r\n\r\n').slice(1).join('\r\n\r\n');
        if (!m || body.length >= Number(m[1])) done();
      }
    });
    s.on('error', done);
    s.on('close', done);
    s.write(bytes);
  });
}

test('judgeRequest: malformed, hostile and oversized targets are refused by status, never thrown', () => {
  const h = { host: '127.0.0.1:8080' };
  for (const url of ['/%ff', '/..%c0%af..', '/%E0%A4%A', '/%', '/%zz']) assert.deepEqual(judgeRequest('GET', url, h), { ok: false, status: 400, reason: 'malformed percent-encoding' }, url);
  for (const url of ['/../package.json', '/..%2f..%2fpackage.json', '/a/%2e%2e/b', '/a\\b', '/a%00b', '/.']) assert.equal((judgeRequest('GET', url, h) as { status: number }).status, 400, url);
  assert.equal((judgeRequest('GET', 'http://evil/x', h) as { status: number }).status, 400);
  assert.equal((judgeRequest('GET', `/${'a'.repeat(5000)}`, h) as { status: number }).status, 414);
  assert.equal((judgeRequest('POST', '/', h) as { status: number }).status, 405);
  assert.equal((judgeRequest('GET', '/', { host: 'evil.example:8080' }) as { status: number }).status, 421);
  assert.equal((judgeRequest('GET', '/', {}) as { status: number }).status, 421);
  assert.deepEqual(judgeRequest('HEAD', '/monitor.js?v=1#x', h), { ok: true, path: '/monitor.js' });
  assert.deepEqual(judgeRequest('GET', '/a%20b', h), { ok: true, path: '/a b' });
  assert.ok(hostAllowed('localhost:1') && hostAllowed('[::1]:8080') && hostAllowed('10.0.0.5') && hostAllowed('box-7.lan', ['box-7.lan']));
  assert.ok(!hostAllowed('box-7.lan') && !hostAllowed('a:b:c') && !hostAllowed('evil.example'));
});

test('judgeUpgrade: a browser (Origin) only from the page itself or a listed origin; programs (no Origin) pass to the sign-in', () => {
  const host = '127.0.0.1:8080';
  assert.equal(judgeUpgrade({ host }), null);
  assert.equal(judgeUpgrade({ host, origin: 'http://127.0.0.1:8080' }), null);
  assert.equal(judgeUpgrade({ host: 'localhost:8080', origin: 'http://localhost:8080' }), null);
  assert.deepEqual(judgeUpgrade({ host, origin: 'http://evil.example' }), { status: 403, reason: 'Origin not allowed' });
  assert.deepEqual(judgeUpgrade({ host, origin: 'http://127.0.0.1:9999' }), { status: 403, reason: 'Origin not allowed' }, 'another port is another origin');
  assert.deepEqual(judgeUpgrade({ host, origin: 'null' }), { status: 403, reason: 'Origin not allowed' }, 'sandboxed frames and file: pages send null');
  assert.equal(judgeUpgrade({ host, origin: 'https://monitor.lan' }, { allowedOrigins: ['https://monitor.lan'] }), null);
  assert.deepEqual(judgeUpgrade({ host: 'rebound.example:8080', origin: 'http://rebound.example:8080' }), { status: 421, reason: 'Host not served here' }, 'DNS rebinding');
});

test('a real server: hostile requests answer 400/404/405/414/431 with the security headers, and it keeps serving', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-guard-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'monitor.js'), 'export {};');
  const server = createGuardedServer(monitorHandler(dir, () => ({ broker: null, device: 'd', operators: true })), { connectSources: ['ws://10.0.0.5:8080'] });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  try {
    const cases: [string, number][] = [
      ['/%ff', 400],
      ['/..%c0%af..', 400],
      ['/%E0%A4%A', 400],
      ['/nope.js', 404],
      ['/index.html', 200],
      ['/', 200],
      ['/config.json', 200],
    ];
    for (const [path, status] of cases) {
      const r = await fetch(base + path);
      assert.equal(r.status, status, path);
      assert.match(r.headers.get('content-security-policy') ?? '', /connect-src 'self' ws:\/\/10\.0\.0\.5:8080;.*frame-ancestors 'none'/, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer', path);
      await r.arrayBuffer();
    }
    assert.equal((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await fetch(`${base}/`, { method: 'OPTIONS' })).status, 405);
    assert.equal((await fetch(`${base}/index.html`, { headers: { range: 'bytes=5-2' } })).status, 200, 'a backwards range is ignored, not thrown');
    // raw request lines fetch would clean up
    assert.match(await rawRequest(port, `GET /${'x'.repeat(4000)} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`), /^HTTP\/1\.1 414/);
    const big = await rawRequest(port, `GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${'y'.repeat(20_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431/);
    assert.match(big, /content-security-policy: default-src 'none'/i, 'parser-level refusals carry the headers too');
    assert.match(await rawRequest(port, 'GET / HTTP/1.1\r\nhost: evil.example\r\n\r\n'), /^HTTP\/1\.1 421/);
    assert.match(await rawRequest(port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await rawRequest(port, 'GET /%ff HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await rawRequest(port, 'GET * HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'), /^HTTP\/1\.1 400/);
    // still serving
    assert.equal((await fetch(`${base}/config.json`).then((r) => r.json()) as { device: string }).device, 'd');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('securityHeaders: CSP allows the page own origin and its broker only', () => {
  const csp = securityHeaders(['wss://broker.lan:8883'])['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /connect-src 'self' wss:\/\/broker\.lan:8883;/);
  assert.doesNotMatch(csp, /unsafe|\*/);
});
