// `aunet monitor --broker URL`: serve the attention monitor (monitor/dist/) for
// a broker elsewhere; the page learns its broker from /config.json.
//   ws:// or wss://     the page connects to that broker's WebSocket itself
//   mqtt:// or mqtts:// the page connects to this server's /mqtt, which carries
//                       each browser's MQTT to the broker over TCP or TLS
//                       (host/publish/mqtt-bridge.ts): a plain Mosquitto works
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { FileError, UsageError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';
import { readInputFile, readInputText } from '../../common/input-file.js';
import { listen } from '../publish/listen.js';
import { MONITOR_DIST, monitorAvailable, monitorHandler } from '../publish/static-files.js';
import { createGuardedServer, webSocketOrigin } from '../publish/http-guard.js';
import { attachMqttBridge } from '../publish/mqtt-bridge.js';
import { SignInLimiter } from '../publish/sign-in-limiter.js';
import { redact } from '../publish/client.js';
import { DEVICE_ID } from '../../contracts/topics.js';

interface MonitorOpts {
  broker: string;
  port: string;
  device?: string;
  host: string;
  credentials?: string;
  ca?: string;
  allowOrigin: string[];
  allowHost: string[];
}

/** Environment variables that carry the viewer account (instead of --credentials). */
export const VIEWER_ENV = { username: 'AUNET_MONITOR_USERNAME', password: 'AUNET_MONITOR_PASSWORD' } as const;

export function register(program: Command): void {
  program
    .command('monitor')
    .description('serve the attention monitor (fleet and device views) for a broker elsewhere')
    .requiredOption('--broker <url>', 'the broker: mqtt://HOST:PORT or mqtts://HOST:PORT (carried over this server\'s own WebSocket), or ws(s)://HOST:PORT/PATH (the page connects itself)')
    .option('--port <n>', 'HTTP port (0 = any free port)', '8081')
    .option('--device <id>', 'open on this device\'s view (default: the fleet view)')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--credentials <file>', `mqtt(s):// only: YAML or JSON file {username, password} of the viewer account used for pages not signed in (or ${VIEWER_ENV.username} and ${VIEWER_ENV.password}); operators sign in as themselves`)
    .option('--ca <file>', 'mqtts:// only: PEM file of the CA that signed the broker\'s certificate')
    .option('--allow-origin <origin...>', 'mqtt(s):// only: further page origins allowed to connect (e.g. https://monitor.example.org behind a proxy)', [])
    .option('--allow-host <name...>', 'DNS names the page may be opened by besides localhost and IP addresses (with --host on a network: the name people type); others are refused (DNS rebinding)', [])
    .action(async (o: MonitorOpts) => {
      const broker = parseBroker(o.broker);
      const httpPort = parseInteger(o.port, '--port', { min: 0, max: 65535 });
      if (o.device !== undefined && !DEVICE_ID.test(o.device)) throw new UsageError(`--device ${o.device}: 1 to 64 characters of A-Z a-z 0-9 _ -`);
      const bridged = broker.protocol === 'mqtt:' || broker.protocol === 'mqtts:';
      if (!bridged && (o.credentials || o.ca || o.allowOrigin.length)) throw new UsageError('--credentials, --ca and --allow-origin apply to an mqtt:// or mqtts:// --broker only (a ws:// broker is reached by the page itself)');
      if (o.ca && broker.protocol !== 'mqtts:') throw new UsageError('--ca is for an mqtts:// --broker');
      for (const name of o.allowHost) if (!/^[A-Za-z0-9.-]{1,253}$/.test(name)) throw new UsageError(`--allow-host ${name}: give a DNS name like monitor.hospital.lan`);
      for (const origin of o.allowOrigin) if (!/^https?:\/\/[^/]+$/.test(origin)) throw new UsageError(`--allow-origin ${origin}: give an origin like https://monitor.example.org (scheme and host, no path)`);
      const viewer = bridged ? viewerAccount(o.credentials) : null;
      const ca = o.ca ? readInputFile(o.ca, 'the broker CA certificate (--ca)') : undefined;
      if (!monitorAvailable()) process.stdout.write(`WARNING: ${MONITOR_DIST} has no index.html; run \`npm run build:monitor\` first.\n`);

      const log = (level: string, msg: string, fields?: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ level, msg, ...fields })}\n`);
      // the page's CSP lets it open a WebSocket to its broker and nowhere else: this server's own /mqtt when bridged
      const config = { broker: bridged ? null : o.broker, device: o.device ?? null, operators: null };
      const server = createGuardedServer(monitorHandler(MONITOR_DIST, () => config), { connectSources: bridged ? [] : [webSocketOrigin(o.broker)!], allowedHosts: o.allowHost });
      const limiter = bridged ? new SignInLimiter({ log: (msg, fields) => log('warn', `bridge: ${msg}`, fields) }) : null;
      const bridge =
        bridged && limiter
          ? attachMqttBridge(server, {
              broker: { url: o.broker, ca },
              viewer,
              origins: { allowedOrigins: o.allowOrigin, allowedHosts: o.allowHost, requireOrigin: true },
              limiter,
              log,
            })
          : null;
      await listen(server, httpPort, o.host, 'monitor page (--port)');
      const { port } = server.address() as AddressInfo;
      const via = bridged ? `, carried over ws://${o.host}:${port}/mqtt${viewer ? ` (viewers as ${viewer.username})` : ''}` : '';
      process.stdout.write(`Monitor: http://${o.host}:${port}/  (broker ${redact(o.broker)}${via})\nCtrl-C to stop.\n`);
      if (bridged && !(await reachable(broker))) process.stdout.write(`WARNING: broker ${redact(o.broker)} does not accept connections yet; the page will say so and retry.\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          void bridge?.close();
          limiter?.close();
          server.closeAllConnections();
          server.close(() => resolve());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

function parseBroker(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--broker ${url}: not a URL; give mqtt://HOST:PORT, mqtts://HOST:PORT or ws(s)://HOST:PORT/PATH`);
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol) || !u.hostname) throw new UsageError(`--broker ${url}: give mqtt://HOST:PORT, mqtts://HOST:PORT or ws(s)://HOST:PORT/PATH`);
  if (u.username || u.password) throw new UsageError(`--broker ${redact(url)}: no credentials in the URL (anyone could read them in the process list); use --credentials FILE or ${VIEWER_ENV.username}/${VIEWER_ENV.password}`);
  return u;
}

/** The viewer account from --credentials FILE or the environment; null = viewers connect anonymously. */
function viewerAccount(file: string | undefined): { username: string; password: string } | null {
  if (file) {
    let v: unknown;
    try {
      v = parseYaml(readInputText(file, 'the viewer credentials (--credentials)'));
    } catch (e) {
      if (e instanceof FileError) throw e;
      throw new FileError(file, `not YAML or JSON: ${(e as Error).message}`);
    }
    const r = v as { username?: unknown; password?: unknown } | null;
    if (!r || typeof r.username !== 'string' || !r.username || typeof r.password !== 'string') throw new FileError(file, 'needs a string `username` and a string `password` (the viewer account)');
    return { username: r.username, password: r.password };
  }
  const username = process.env[VIEWER_ENV.username];
  const password = process.env[VIEWER_ENV.password];
  if (username === undefined && password === undefined) return null;
  if (!username || password === undefined) throw new UsageError(`set both ${VIEWER_ENV.username} and ${VIEWER_ENV.password}, or neither`);
  return { username, password };
}

/** Whether the broker's TCP port accepts a connection within 3 s. */
function reachable(u: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883)) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(3000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
