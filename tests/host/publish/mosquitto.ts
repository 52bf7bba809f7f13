// A real Mosquitto for the end-to-end tests, started by the test itself on a
// free 127.0.0.1 port with a generated config, password file and ACL (as
// docs/mqtt.md recommends), so CI needs no pre-started service.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface Mosquitto {
  port: number;
  url: string;
  /** mqtts:// URL when started with tls */
  tlsUrl: string | null;
  /** the CA that signed the broker's certificate */
  caFile: string | null;
  users: Record<string, string>;
  /** SIGKILL the broker (no clean shutdown) */
  kill(): Promise<void>;
  /** start it again on the same port; resolves once it accepts connections */
  start(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface MosquittoOptions {
  /** also listen with TLS (certificates made here with openssl) */
  tls?: boolean;
  /** anonymous clients may connect (read only by the ACL); default true */
  allowAnonymous?: boolean;
  /** the ACL file's lines (default: anonymous read, aunet-service readwrite, operator read + cmd) */
  acl?: string[];
  /** more configuration lines (e.g. a bridge's `connection` section) */
  extraConfig?: string[];
}

/** The ACL of docs/mqtt.md. */
export const DEFAULT_ACL = ['topic read aunet/#', '', 'user aunet-service', 'topic readwrite aunet/#', '', 'user operator', 'topic read aunet/#', 'topic write aunet/+/cmd', ''];

export async function startMosquitto(users: Record<string, string>, options: MosquittoOptions = {}): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-mosq-'));
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : 0;
  if (options.tls) makeCertificates(dir);
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const [u, p] of Object.entries(users)) {
    const r = spawnSync(MOSQUITTO_PASSWD, ['-b', passwd, u, p], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
  }
  // anonymous: read only; the live service: everything under aunet/; operators: read + cmd
  writeFileSync(join(dir, 'acl'), (options.acl ?? DEFAULT_ACL).join('\n') + '\n');
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${options.allowAnonymous ?? true}`,
      `password_file ${passwd}`,
      `acl_file ${join(dir, 'acl')}`,
      ...(options.tls ? [`listener ${tlsPort} 127.0.0.1`, `cafile ${join(dir, 'ca.pem')}`, `certfile ${join(dir, 'server.pem')}`, `keyfile ${join(dir, 'server.key')}`] : []),
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      ...(options.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  // started as root, mosquitto drops to its own user: it must be able to read these
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  let proc: ChildProcess | null = null;
  let log = '';
  const start = async () => {
    proc = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 5000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`mosquitto did not start on port ${port}:\n${log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const kill = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    tlsUrl: options.tls ? `mqtts://127.0.0.1:${tlsPort}` : null,
    caFile: options.tls ? join(dir, 'ca.pem') : null,
    users,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => log,
  };
}

/** A throw-away CA and a server certificate for 127.0.0.1 (openssl, Debian's). */
function makeCertificates(dir: string): void {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=aunet test CA', '-keyout', 'ca.key', '-out', 'ca.pem']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'server.pem']);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
