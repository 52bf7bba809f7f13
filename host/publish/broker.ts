// The embedded broker: aedes on 127.0.0.1, MQTT over TCP and over WebSocket
// (path /mqtt, for the monitor), the WebSocket's HTTP server also serving the
// monitor's files. Authorisation follows docs/mqtt.md: anonymous clients read
// only; operators (config users) may publish commands; the live service publishes.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { isAunetTopic, isCmdTopic } from '../../contracts/topics.js';
import { SERVICE_USERNAME } from '../../contracts/run-config.js';
import { MONITOR_DIST, staticHandler, type MonitorConfig } from './static-files.js';
import { listen } from './listen.js';

export interface BrokerUser {
  username: string;
  password: string;
}

export interface EmbeddedBrokerOptions {
  /** MQTT over TCP; 0 = any free port */
  port: number;
  /** HTTP: WebSocket MQTT at /mqtt and the monitor's files; 0 = any free port */
  httpPort: number;
  host?: string;
  /** operators allowed to send commands */
  users: BrokerUser[];
  /** folder served over HTTP (default monitor/dist/) */
  staticRoot?: string;
  /** device id the monitor shows first */
  device?: string | null;
  /** a subscriber with more than this many bytes unsent is skipped for QoS 0 messages */
  maxClientBufferBytes?: number;
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export type Role = 'service' | 'operator' | 'anonymous';

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  readonly port: number;
  readonly httpPort: number;
  readonly host: string;
  /** credentials of the live service's own client (generated at start) */
  readonly serviceUser: BrokerUser;
  /** mqtt://host:port */
  readonly url: string;
  /** ws://host:httpPort/mqtt */
  readonly wsUrl: string;
  /** http://host:httpPort/ */
  readonly monitorUrl: string;
  /** publishes refused by authorisation, for tests and stats */
  readonly refused: number;
  /** QoS 0 deliveries skipped because the subscriber was not reading its socket */
  readonly skipped: number;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const maxBuffer = opts.maxClientBufferBytes ?? 1 << 20;
  const serviceUser: BrokerUser = { username: SERVICE_USERNAME, password: randomBytes(18).toString('base64url') };
  const roles = new WeakMap<Client, Role>();
  let refused = 0;
  let skipped = 0;

  const aedes = await Aedes.createBroker({
    drainTimeout: 10_000,
    authenticate(client, username, password, done) {
      if (username === undefined) {
        roles.set(client, 'anonymous');
        return done(null, true);
      }
      const pw = password ?? Buffer.alloc(0);
      if (username === serviceUser.username && same(pw, serviceUser.password)) {
        roles.set(client, 'service');
        return done(null, true);
      }
      if (opts.users.some((u) => u.username === username && same(pw, u.password))) {
        roles.set(client, 'operator');
        return done(null, true);
      }
      log('warn', 'broker: bad username or password', { client: client.id, username });
      const err = new Error('bad username or password') as AuthenticateError;
      err.returnCode = 4;
      return done(err, false);
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // the broker's own publishes ($SYS)
      const role = roles.get(client) ?? 'anonymous';
      const ok = role === 'service' || (role === 'operator' && (isCmdTopic(packet.topic) || !isAunetTopic(packet.topic)));
      if (ok) return done(null);
      refused++;
      log('warn', 'broker: publish refused', { client: client.id, role, topic: packet.topic });
      done(new Error(`${role} client may not publish to ${packet.topic}`));
    },
    authorizeForward(client, packet) {
      // a subscriber that does not read its socket misses QoS 0 frames instead of
      // making the broker (in our process) buffer them without bound
      const conn = client.conn as { writableLength?: number };
      if (packet.qos === 0 && (conn.writableLength ?? 0) > maxBuffer) {
        skipped++;
        return null;
      }
      return packet;
    },
  });

  const tcp: NetServer = createNetServer((socket) => aedes.handle(socket));
  const monitorConfig: MonitorConfig = { broker: null, device: opts.device ?? null };
  const http: HttpServer = createHttpServer(staticHandler(opts.staticRoot ?? MONITOR_DIST, monitorConfig));
  const wss = new WebSocketServer({ server: http, path: '/mqtt' });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => stream.destroy());
    aedes.handle(stream, req);
  });
  aedes.on('clientError', (client, err) => log('info', 'broker: client error', { client: client.id, error: err.message }));

  const close = async (): Promise<void> => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
    await Promise.all([closeServer(tcp), closeServer(http)]);
  };
  try {
    await listen(tcp, opts.port, host, 'MQTT port (broker.port / --port)');
    await listen(http, opts.httpPort, host, 'HTTP port (broker.httpPort / --http-port)');
  } catch (e) {
    await close().catch(() => {});
    throw e;
  }
  const port = (tcp.address() as AddressInfo).port;
  const httpPort = (http.address() as AddressInfo).port;
  return {
    aedes,
    port,
    httpPort,
    host,
    serviceUser,
    url: `mqtt://${host}:${port}`,
    wsUrl: `ws://${host}:${httpPort}/mqtt`,
    monitorUrl: `http://${host}:${httpPort}/`,
    get refused() {
      return refused;
    },
    get skipped() {
      return skipped;
    },
    close,
  };
}

function same(given: Buffer, expected: string): boolean {
  const e = Buffer.from(expected, 'utf8');
  return given.length === e.length && timingSafeEqual(given, e);
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    (server as HttpServer).closeAllConnections?.();
    server.close(() => resolve());
  });
}
