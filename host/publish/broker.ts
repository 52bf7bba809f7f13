// The embedded broker: aedes on 127.0.0.1, MQTT over TCP and over WebSocket
// (path /mqtt, for the monitor), the WebSocket's HTTP server also serving the
// monitor's files. aedes only runs the protocol; what a client may do is
// decided by the modules beside this one (docs/security.md):
//   http-guard.ts        every HTTP request judged, security headers
//   websocket-origin.ts  upgrades checked for Host and Origin
//   packet-gate.ts       oversized packets cut at their fixed header, per role
//   sign-in-limiter.ts   growing delays for failed sign-ins
//   broker-policy.ts     subscribe/publish rules, client-id takeover
//   user-store.ts        operator accounts (scrypt hashes)
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { SERVICE_USERNAME } from '../../contracts/run-config.js';
import { MONITOR_DIST, monitorHandler, type MonitorConfig } from './static-files.js';
import { listen } from './listen.js';
import { createGuardedServer } from './http-guard.js';
import { judgeWebSocketRequest, refuseUpgrade } from './websocket-origin.js';
import { PacketSizeGate } from './packet-gate.js';
import { SignInLimiter, type SignInLimiterOptions } from './sign-in-limiter.js';
import { ANONYMOUS, mayPublish, maySubscribe, mayTakeClientId, packetLimit, type Identity } from './broker-policy.js';

export interface BrokerUser {
  username: string;
  password: string;
}

/** Where operators' passwords are checked (user-store.ts's UserStore is one). */
export interface OperatorDirectory {
  verify(username: string, password: Buffer): Promise<boolean>;
  hasOperators(): boolean;
}

export const NO_OPERATORS: OperatorDirectory = { verify: async () => false, hasOperators: () => false };

export interface EmbeddedBrokerOptions {
  /** MQTT over TCP; 0 = any free port */
  port: number;
  /** HTTP: WebSocket MQTT at /mqtt and the monitor's files; 0 = any free port */
  httpPort: number;
  host?: string;
  /** operators allowed to send commands (default: none) */
  operators?: OperatorDirectory;
  /** folder served over HTTP (default monitor/dist/); a function when it changes (the box's running image) */
  staticRoot?: string | (() => string);
  /** device id the monitor shows first */
  device?: string | null;
  /** a subscriber with more than this many bytes unsent is skipped for QoS 0 messages */
  maxClientBufferBytes?: number;
  /** largest packet the live service sends (its largest frame message and topic); default 256 KiB */
  maxServicePacketBytes?: number;
  /** origins allowed to open the WebSocket besides the page's own (broker.allowedOrigins) */
  allowedOrigins?: readonly string[];
  /** DNS names the Host header may carry besides localhost and IP literals */
  allowedHosts?: readonly string[];
  signInLimits?: Omit<SignInLimiterOptions, 'log'>;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

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
  /** publishes and subscriptions refused by the policy, for tests and stats */
  readonly refused: number;
  /** connections closed by the packet-size gate */
  readonly oversized: number;
  /** QoS 0 deliveries skipped because the subscriber was not reading its socket */
  readonly skipped: number;
  /** Take a connection stream from elsewhere (a bridge, the fuzzer) as a client, behind the same gate and policy. */
  handle(stream: Duplex, from?: { address?: string; origin?: string }): void;
  close(): Promise<void>;
}

const DEFAULT_SERVICE_PACKET = 256 * 1024;

interface Connection {
  address: string;
  /** Origin header of a WebSocket client; '' for TCP and for programs */
  origin: string;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const operators = opts.operators ?? NO_OPERATORS;
  const maxBuffer = opts.maxClientBufferBytes ?? 1 << 20;
  const serviceBytes = opts.maxServicePacketBytes ?? DEFAULT_SERVICE_PACKET;
  const serviceUser: BrokerUser = { username: SERVICE_USERNAME, password: randomBytes(18).toString('base64url') };
  // keyed by the connection stream (the gate), which aedes keeps as client.conn
  const connections = new WeakMap<Duplex, Connection>();
  const identities = new WeakMap<Duplex, Identity>();
  const identity = (client: Client | null | undefined): Identity => (client ? identities.get(client.conn as Duplex) : undefined) ?? ANONYMOUS;
  const limiter = new SignInLimiter({ ...opts.signInLimits, log: (msg, fields) => log('warn', `broker: ${msg}`, fields) });
  const note = throttledLog(log);
  let refused = 0;
  let oversized = 0;
  let skipped = 0;

  const aedes = await Aedes.createBroker({
    drainTimeout: 10_000,
    authenticate(client, username, password, done) {
      const conn = connections.get(client.conn as Duplex) ?? { address: '', origin: '' };
      const refuse = (returnCode: 2 | 4, message: string) => {
        const err = new Error(message) as AuthenticateError;
        err.returnCode = returnCode;
        done(err, false);
      };
      decide(username, password ?? Buffer.alloc(0), conn).then(
        (who) => {
          if (!who) return refuse(4, 'bad username or password');
          const holder = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[client.id];
          const take = mayTakeClientId(holder ? identity(holder) : undefined, who);
          if (!take.ok) {
            note('warn', 'broker: client id refused', { client: client.id, username: who.username, ...conn, reason: take.reason });
            return refuse(2, 'identifier rejected');
          }
          identities.set(client.conn as Duplex, who);
          done(null, true);
        },
        (e: Error) => {
          log('error', 'broker: sign-in check failed', { error: e.message });
          refuse(4, 'bad username or password');
        },
      );
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // the broker's own publishes ($SYS)
      const who = identity(client);
      const d = mayPublish(who, packet.topic, packet.retain, packet.payload?.length ?? 0);
      if (d.ok) return done(null);
      refused++;
      note('warn', 'broker: publish refused', { client: client.id, role: who.role, topic: packet.topic, retain: packet.retain, reason: d.reason });
      done(new Error(d.reason));
    },
    authorizeSubscribe(client, sub, done) {
      const who = identity(client);
      const d = maySubscribe(who, sub.topic);
      if (d.ok) return done(null, sub);
      refused++;
      note('warn', 'broker: subscription refused', { client: client.id, role: who.role, topic: sub.topic, reason: d.reason });
      done(null, null); // SUBACK 0x80 for this filter; the connection stays
    },
    authorizeForward(client, packet) {
      // a subscriber that does not read its socket misses QoS 0 frames instead of
      // making the broker (in our process) buffer them without bound
      if (packet.qos === 0 && (client.conn as PacketSizeGate).backlog > maxBuffer) {
        skipped++;
        return null;
      }
      return packet;
    },
  });

  async function decide(username: string | undefined, password: Buffer, conn: Connection): Promise<Identity | null> {
    if (username === undefined) return ANONYMOUS;
    const ok = await limiter.attempt({ username, ...conn }, async () =>
      username === serviceUser.username ? same(password, serviceUser.password) : operators.verify(username, password),
    );
    return ok ? { role: username === serviceUser.username ? 'service' : 'operator', username } : null;
  }

  /** Hand a connection stream to aedes behind the packet-size gate. */
  const accept = (stream: Duplex, conn: Connection): void => {
    const gate: PacketSizeGate = new PacketSizeGate(
      stream,
      () => packetLimit(identities.get(gate)?.role ?? null, serviceBytes),
      (r) => {
        oversized++;
        note('warn', 'broker: connection closed: packet over the limit', { ...conn, role: identities.get(gate)?.role ?? 'not signed in', announced: r.announced, limit: r.limit });
      },
    );
    gate.on('error', () => {});
    connections.set(gate, conn);
    aedes.handle(gate);
  };

  const tcp: NetServer = createNetServer((socket) => {
    socket.on('error', () => {});
    accept(socket, { address: socket.remoteAddress ?? '', origin: '' });
  });
  const monitorConfig = (): MonitorConfig => ({ broker: null, device: opts.device ?? null, operators: hasOperators(operators) });
  const http: HttpServer = createGuardedServer(monitorHandler(opts.staticRoot ?? MONITOR_DIST, monitorConfig), { allowedHosts: opts.allowedHosts });
  // one WebSocket message carries at most one of the largest packets (and some framing)
  const wss = new WebSocketServer({ noServer: true, maxPayload: packetLimit('service', serviceBytes) + 1024 });
  http.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const refusal = judgeWebSocketRequest(req, '/mqtt', { allowedOrigins: opts.allowedOrigins, allowedHosts: opts.allowedHosts });
    if (refusal) {
      note('warn', 'broker: WebSocket refused', { address: req.socket.remoteAddress, origin: req.headers.origin, host: req.headers.host, status: refusal.status, reason: refusal.reason });
      refuseUpgrade(socket, refusal);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => stream.destroy());
      accept(stream, { address: req.socket.remoteAddress ?? '', origin: req.headers.origin ?? '' });
    });
  });
  aedes.on('clientError', (client, err) => note('info', 'broker: client error', { client: client.id, error: err.message }));

  const close = async (): Promise<void> => {
    limiter.close();
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
    get oversized() {
      return oversized;
    },
    get skipped() {
      return skipped;
    },
    handle: (stream, from = {}) => accept(stream, { address: from.address ?? '', origin: from.origin ?? '' }),
    close,
  };
}

function hasOperators(d: OperatorDirectory): boolean | null {
  try {
    return d.hasOperators();
  } catch {
    return null; // a damaged store: the sign-in says why
  }
}

function same(given: Buffer, expected: string): boolean {
  const e = Buffer.from(expected, 'utf8');
  return given.length === e.length && timingSafeEqual(given, e);
}

/** Lines an attacker can repeat at will: at most one per message per 10 s, the next one counting those left out. */
function throttledLog(log: NonNullable<EmbeddedBrokerOptions['log']>): NonNullable<EmbeddedBrokerOptions['log']> {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (level, msg, fields) => {
    const now = Date.now();
    const s = last.get(msg);
    if (s && now - s.at < 10_000) {
      s.suppressed++;
      return;
    }
    last.set(msg, { at: now, suppressed: 0 });
    log(level, msg, s?.suppressed ? { ...fields, alsoSinceLastLine: s.suppressed } : fields);
  };
}

function closeServer(server: NetServer | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    (server as HttpServer).closeAllConnections?.();
    server.close(() => resolve());
  });
}
