// Failed sign-ins slow down per (username, address, origin): a guessing attack
// gets about one check per maxDelayMs per key, is logged once per burst, and
// the real operator (another key: the page's own origin) still signs in at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { SignInLimiter } from '../../../host/publish/sign-in-limiter.js';
import { startEmbeddedBroker } from '../../../host/publish/broker.js';
import { memoryOperators } from '../../support/operators.js';

const key = (origin = '') => ({ username: 'operator', address: '127.0.0.1', origin });

test('delays grow per failure after the free ones, are capped, and reset on success', async () => {
  const logs: string[] = [];
  const l = new SignInLimiter({ freeFailures: 2, baseDelayMs: 40, maxDelayMs: 160, maxWaiting: 3, log: (m) => logs.push(m) });
  try {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 9].map((n) => l.delayAfter(n)), [0, 0, 40, 80, 160, 160, 160]);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = Date.now();
      assert.equal(await l.attempt(key(), async () => false), false);
      times.push(Date.now() - t0);
    }
    // waits before attempts 4, 5, 6 (after failures 3, 4, 5): 40, 80, 160 ms
    assert.ok(times[0] < 30 && times[1] < 30 && times[2] < 30, times.join(','));
    assert.ok(times[3] >= 35 && times[4] >= 75 && times[5] >= 150, times.join(','));
    assert.equal(logs.filter((m) => m.startsWith('sign-in failed')).length, 1, 'one line for the burst so far');
    // another key is not slowed
    const t0 = Date.now();
    assert.equal(await l.attempt(key('http://127.0.0.1:8080'), async () => true), true);
    assert.ok(Date.now() - t0 < 30);
    // the right password on the slowed key works after its delay, ends the burst (logged with its count) and resets
    assert.equal(await l.attempt(key(), async () => true), true);
    assert.ok(logs.some((m) => m.startsWith('sign-in failures ended')));
    const t1 = Date.now();
    await l.attempt(key(), async () => false);
    assert.ok(Date.now() - t1 < 30, 'reset after success');
  } finally {
    l.close();
  }
});

test('attempts queue per key; beyond maxWaiting they are refused without checking the password', async () => {
  const l = new SignInLimiter({ freeFailures: 0, baseDelayMs: 100, maxDelayMs: 100, maxWaiting: 2 });
  let checked = 0;
  try {
    const all = await Promise.all(Array.from({ length: 10 }, () => l.attempt(key(), async () => (checked++, false))));
    assert.ok(all.every((r) => r === false));
    assert.equal(checked, 2, 'only the queued attempts were checked');
  } finally {
    l.close();
  }
});

test('a guessing attack against the embedded broker: slowed to ~1 check per max delay per key, logged once, the operator signs in meanwhile', { timeout: 60_000 }, async () => {
  const lines: string[] = [];
  const users = memoryOperators({ operator: 'the-real-password' });
  let checks = 0;
  const counting = { hasOperators: () => true, verify: (u: string, p: Buffer) => (checks++, users.verify(u, p)) };
  const b = await startEmbeddedBroker({ port: 0, httpPort: 0, operators: counting, allowedOrigins: ['http://listed.example'], signInLimits: { freeFailures: 3, baseDelayMs: 100, maxDelayMs: 400 }, log: (_l, m) => lines.push(m) });
  let stop = false;
  let tries = 0;
  const guesser = async (url: string, origin?: string) => {
    while (!stop) {
      tries++;
      const c = mqtt.connect(url, { username: 'operator', password: `guess-${tries}`, reconnectPeriod: 0, connectTimeout: 20_000, ...(origin ? { wsOptions: { origin } } : {}) } as mqtt.IClientOptions);
      await new Promise<void>((r) => {
        c.once('connect', () => r());
        c.once('error', () => r());
        c.once('close', () => r());
      });
      c.end(true);
    }
  };
  try {
    const attack = [...Array.from({ length: 6 }, () => guesser(b.url)), ...Array.from({ length: 6 }, () => guesser(b.wsUrl, 'http://listed.example'))];
    await new Promise((r) => setTimeout(r, 2500));
    // the operator, from the monitor page's own origin, while the attack runs
    const t0 = Date.now();
    const op = await mqtt.connectAsync(b.wsUrl, { username: 'operator', password: 'the-real-password', reconnectPeriod: 0, wsOptions: { origin: `http://127.0.0.1:${b.httpPort}` } } as mqtt.IClientOptions);
    const took = Date.now() - t0;
    await op.endAsync(true);
    await new Promise((r) => setTimeout(r, 2500));
    stop = true;
    const checksDuringAttack = checks;
    await Promise.race([Promise.all(attack), new Promise((r) => setTimeout(r, 3000))]);
    process.stdout.write(`guessing attack, 12 connections, 2 keys, 5 s: ${(tries / 5).toFixed(0)} attempts/s, ${(checksDuringAttack / 5).toFixed(1)} passwords checked/s; the operator signed in after ${took} ms\n`);
    assert.ok(took < 2000, `the operator signed in ${took} ms into the attack`);
    // two attacking keys over 5 s: 3 free + about 5 s / (0.1 + 0.2 + 0.4 ...) each, never hundreds
    assert.ok(checksDuringAttack <= 2 * 20 + 1, `${checksDuringAttack} passwords checked for ${tries} attempts in 5 s`);
    assert.ok(tries > checksDuringAttack, 'attempts beyond the queue were refused unchecked');
    const failedLines = lines.filter((m) => m.includes('sign-in failed'));
    assert.equal(failedLines.length, 2, `one line per attacking key, not per attempt: ${lines.join('\n')}`);
  } finally {
    stop = true;
    await b.close();
  }
});
