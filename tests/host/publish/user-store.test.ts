// Operator accounts: scrypt hashes in a file of its own (no plain password in
// it, owner-only), managed by `aunet users`; a first `aunet run` creates one
// account and shows its password once on the terminal, not in the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { UserStore, createFirstOperator, defaultUserStorePath } from '../../../host/publish/user-store.js';
import { CLI, runAunet, startAunet } from '../../support/aunet-cli.js';
import { PACKAGE_ROOT } from '../../../common/package-root.js';

test('the store keeps salted scrypt hashes, checks passwords, and refuses damaged files by name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-users-'));
  try {
    const store = new UserStore(join(dir, 'sub', 'users.json'));
    assert.equal(store.exists, false);
    assert.deepEqual(store.list(), []);
    await store.add('alice', 'correct horse');
    await store.add('bob', 'correct horse');
    const text = readFileSync(store.file, 'utf8');
    assert.doesNotMatch(text, /correct horse/);
    const file = JSON.parse(text) as { users: { scrypt: { salt: string; hash: string; N: number } }[] };
    assert.notEqual(file.users[0].scrypt.salt, file.users[1].scrypt.salt, 'salted per account');
    assert.notEqual(file.users[0].scrypt.hash, file.users[1].scrypt.hash);
    assert.equal(file.users[0].scrypt.N, 2 ** 15);
    assert.equal(statSync(store.file).mode & 0o777, 0o600);
    assert.equal(await store.verify('alice', 'correct horse'), true);
    assert.equal(await store.verify('alice', Buffer.from('correct horse')), true);
    assert.equal(await store.verify('alice', 'wrong'), false);
    assert.equal(await store.verify('nobody', 'correct horse'), false);
    await assert.rejects(store.add('alice', 'another one'), /exists; pass --force/);
    await store.add('alice', 'another one', true);
    assert.equal(await store.verify('alice', 'correct horse'), false);
    await assert.rejects(store.add('aunet-service', 'whatever1'), /reserved/);
    await assert.rejects(store.add('a b', 'whatever1'), /operator name/);
    await assert.rejects(store.add('carol', 'short'), /at least 8/);
    assert.equal(store.remove('bob'), true);
    assert.equal(store.remove('bob'), false);
    assert.deepEqual(store.list().map((u) => u.username), ['alice']);
    // a second store object sees changes made by another (the CLI while the service runs)
    const other = new UserStore(store.file);
    await other.add('dave', 'password-4');
    assert.equal(await store.verify('dave', 'password-4'), true);
    writeFileSync(store.file, '{"format":"aunet-users","version":1,"users":[{"username":"x"}]}');
    assert.throws(() => store.list(), (e: Error & { code?: string }) => e.code === 'BAD_FILE' && e.message.includes(store.file));
    writeFileSync(store.file, 'not json');
    await assert.rejects(store.verify('x', 'y'), /not readable JSON/);
    // first start: creates one operator in a missing store, nothing in an existing (even empty) one
    const fresh = new UserStore(join(dir, 'fresh.json'));
    const created = await createFirstOperator(fresh);
    assert.ok(created && created.username === 'operator' && created.password.length >= 20);
    assert.equal(await fresh.verify('operator', created.password), true);
    assert.equal(await createFirstOperator(fresh), null);
    assert.equal(defaultUserStorePath({ AUNET_USER_STORE: '/x/u.json' }), '/x/u.json');
    assert.equal(defaultUserStorePath({ XDG_CONFIG_HOME: '/cfg' }), '/cfg/aunet/users.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function withStdin(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { cwd: PACKAGE_ROOT });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
    c.stdin.end(input);
  });
}

test('aunet users add|list|remove on a store file', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-users-cli-'));
  const store = join(dir, 'users.json');
  try {
    const add = await runAunet(['users', 'add', 'alice', '--store', store]);
    assert.equal(add.code, 0, add.stderr);
    const pw = /password: (\S+)/.exec(add.stdout)![1];
    assert.equal(await new UserStore(store).verify('alice', pw), true);
    const piped = await withStdin(['users', 'add', 'bob', '--store', store, '--password-stdin'], 'from-stdin-pw\n');
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stdout, /from-stdin-pw/);
    assert.equal(await new UserStore(store).verify('bob', 'from-stdin-pw'), true);
    const list = await runAunet(['users', 'list', '--store', store]);
    assert.match(list.stdout, /^alice\t.*\nbob\t/m);
    assert.doesNotMatch(list.stdout, /scrypt|hash|from-stdin/);
    const again = await runAunet(['users', 'add', 'alice', '--store', store]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; pass --force/);
    assert.equal((await runAunet(['users', 'remove', 'alice', '--store', store])).code, 0);
    const gone = await runAunet(['users', 'remove', 'alice', '--store', store]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no operator 'alice'/);
    const short = await withStdin(['users', 'add', 'carol', '--store', store, '--password-stdin'], 'short\n');
    assert.equal(short.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('first aunet run: an operator with a random password, shown once on the terminal and never logged; it signs in', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-first-'));
  const store = join(dir, 'users.json');
  const run = startAunet(['run', '--model', 'random:F4x64', '--port', '0', '--http-port', '0', '--device', 'first', '--user-store', store]);
  try {
    const m = await run.waitFor(/Operator account created \(shown this once\): username (\S+) {2}password (\S+)/, 60_000);
    const [, username, password] = m;
    const mq = await run.waitFor(/MQTT: (mqtt:\/\/127\.0\.0\.1:\d+)/, 5000);
    const op = await mqtt.connectAsync(mq[1], { username, password, reconnectPeriod: 0 });
    await op.endAsync();
    await run.stop();
    assert.ok(!run.err().includes(password), 'the password is not in the log');
    // the second start shows no password
    const again = startAunet(['run', '--model', 'random:F4x64', '--port', '0', '--http-port', '0', '--device', 'first', '--user-store', store]);
    await again.waitFor(/Ctrl-C to stop/, 60_000);
    await again.stop();
    assert.doesNotMatch(again.out(), /password/);
  } finally {
    await run.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
