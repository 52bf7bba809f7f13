// The monitor's own MQTT-over-WebSocket endpoint for a broker that speaks only
// TCP (`aunet monitor --broker mqtt://|mqtts://`): a hospital's Mosquitto, or
// Debian's 2.0.11 whose WebSocket listener does not start here. Each browser
// WebSocket gets its own TCP (or TLS) connection to the broker, and its own
// MQTT session on it: a signed-in operator's CONNECT reaches the broker with
// that operator's username and password, so the broker's ACL sees the operator
// and no shared login lets a viewer act as one. A viewer's CONNECT (no
// username) carries the monitor's viewer account when one is configured.
//
// Browser -> broker packets are parsed (mqtt-packet, the parser mqtt.js and
// aedes use) and checked: CONNECT first, the packet-size gate, the sign-in
// limiter on CONNECTs with a username, the access policy on SUBSCRIBE and
// PUBLISH. Broker -> browser bytes are passed through untouched (frames are
// the bulk); only their first packet, the CONNACK, is read, to tell the
// limiter whether a sign-in succeeded.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet';
import { WebSocketServer, type WebSocket } from 'ws';
import type { OriginCheck } from './origin-check.js';
import { signInKey, type SignInLimiter } from './sign-in-limiter.js';
import type { AccessPolicy, Role } from './access-policy.js';

export interface UpstreamBroker {
  /** mqtt://host:port or mqtts://host:port */
  url: string;
  /** PEM CA for mqtts:// */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
}

export interface BridgeOptions {
  broker: UpstreamBroker;
  /** the account viewers (no sign-in) use at the broker; null = anonymous there too */
  viewer: { username: string; password: string } | null;
  checkOrigin: OriginCheck;
  limiter: SignInLimiter;
  policy: AccessPolicy;
  /** WebSocket path (default /mqtt) */
  path?: string;
  /** largest packet a browser may send (bytes); commands are under 4 KiB */
  maxPacketBytes?: number;
  log?: (level: 'info' | 'warn', msg: string, fields?: Record<string, unknown>) => void;
}

export interface MqttBridge {
  /** open browser connections */
  readonly connections: number;
  /** packets refused by the policy (subscribe or publish), for tests and logs */
  readonly refused: number;
  close(): Promise<void>;
}

const CONNACK_OK = 0;

export function attachMqttBridge(server: HttpServer, o: BridgeOptions): MqttBridge {
  const path = o.path ?? '/mqtt';
  const maxPacket = o.maxPacketBytes ?? 64 * 1024;
  const log = o.log ?? (() => {});
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPacket + 16, handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : p.has('mqttv3.1') ? 'mqttv3.1' : false) });
  const upstream = new URL(o.broker.url);
  let connections = 0;
  let refused = 0;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const why = o.checkOrigin(req);
    if (why) {
      log('warn', 'bridge: WebSocket refused', { reason: why, address: req.socket.remoteAddress });
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nforbidden: ' + why + '\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => session(ws, req));
  });

  function openUpstream(): Socket {
    const port = Number(upstream.port || (upstream.protocol === 'mqtts:' ? 8883 : 1883));
    const host = upstream.hostname.replace(/^\[|\]$/g, '');
    return upstream.protocol === 'mqtts:'
      ? tlsConnect({ host, port, ca: o.broker.ca, rejectUnauthorized: o.broker.rejectUnauthorized ?? true, servername: /^[\d.:]+$/.test(host) ? undefined : host })
      : netConnect({ host, port });
  }

  function session(ws: WebSocket, req: IncomingMessage): void {
    connections++;
    const address = req.socket.remoteAddress;
    const origin = req.headers.origin;
    const parser = mqttPacket.parser();
    let version = 4;
    let role: Role = 'viewer';
    let signInKeyOf: string | null = null;
    let broker: Socket | null = null;
    let connackSeen = false;
    const connackParser = mqttPacket.parser();
    let closed = false;

    const close = (why?: string) => {
      if (closed) return;
      closed = true;
      connections--;
      if (why) log('info', 'bridge: connection closed', { reason: why, address });
      broker?.destroy();
      if (ws.readyState === ws.OPEN) ws.close(1000);
      else ws.terminate();
    };
    const toBrowser = (p: Packet) => ws.readyState === ws.OPEN && ws.send(mqttPacket.generate(p, { protocolVersion: version }));
    const toBroker = (p: Packet) => broker?.write(mqttPacket.generate(p, { protocolVersion: version }));

    connackParser.on('packet', (p: Packet) => {
      if (connackSeen || p.cmd !== 'connack') return;
      connackSeen = true;
      const code = (p as IConnackPacket).returnCode ?? (p as IConnackPacket).reasonCode ?? CONNACK_OK;
      if (signInKeyOf) {
        if (code === CONNACK_OK) o.limiter.succeeded(signInKeyOf);
        else o.limiter.failed(signInKeyOf, Date.now());
      }
    });

    const onConnect = async (p: IConnectPacket) => {
      version = p.protocolVersion ?? 4;
      if (p.username !== undefined && p.username !== '') {
        role = 'operator';
        signInKeyOf = signInKey(p.username, address, origin);
        const wait = o.limiter.delayMs(signInKeyOf, Date.now());
        if (wait > 0) {
          log('warn', 'bridge: sign-in held back after failures', { username: p.username, address, ms: wait });
          await new Promise((r) => setTimeout(r, wait));
          if (closed) return;
        }
      } else if (o.viewer) {
        p.username = o.viewer.username;
        p.password = Buffer.from(o.viewer.password, 'utf8');
      }
      broker = openUpstream();
      broker.on('data', (chunk: Buffer) => {
        if (!connackSeen) connackParser.parse(chunk);
        if (ws.readyState === ws.OPEN) ws.send(chunk);
      });
      broker.on('error', (e) => close(`broker: ${e.message}`));
      broker.on('close', () => close());
      toBroker(p);
      for (const q of pending.splice(0)) handle(q);
    };

    // packets that arrive while a held-back CONNECT waits are kept in order
    const pending: Packet[] = [];
    let connectSent = false;
    const handle = (p: Packet) => {
      if (!connectSent) {
        if (p.cmd !== 'connect') return close(`first packet is ${p.cmd}, not connect`);
        connectSent = true;
        void onConnect(p as IConnectPacket);
        return;
      }
      if (!broker) {
        pending.push(p);
        return;
      }
      if (p.cmd === 'connect') return close('a second connect');
      if (p.cmd === 'subscribe') {
        const bad = p.subscriptions.filter((s) => !o.policy.maySubscribe(role, s.topic));
        if (bad.length) {
          refused++;
          log('warn', 'bridge: subscribe refused', { role, topics: bad.map((s) => s.topic), address });
          // refused as a whole: one failure code per filter (0x80 in 3.1.1, 0x87 "not authorized" in 5)
          toBrowser({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => (version === 5 ? 0x87 : 0x80)) });
          return;
        }
      }
      if (p.cmd === 'publish' && !o.policy.mayPublish(role, p.topic)) {
        refused++;
        log('warn', 'bridge: publish refused', { role, topic: p.topic, address });
        if (p.qos === 1) toBrowser({ cmd: 'puback', messageId: p.messageId, ...(version === 5 ? { reasonCode: 0x87 } : {}) });
        if (p.qos === 2) close('refused QoS 2 publish');
        return;
      }
      toBroker(p);
    };

    parser.on('packet', handle);
    parser.on('error', (e: Error) => close(`bad MQTT from the browser: ${e.message}`));
    ws.on('message', (data: Buffer) => {
      const buffered = parser.parse(data);
      const declared = (parser as unknown as { packet?: { length?: number } }).packet?.length ?? 0;
      if (buffered > maxPacket || declared > maxPacket) close(`packet over ${maxPacket} bytes`);
    });
    ws.on('close', () => close());
    ws.on('error', () => close());
  }

  return {
    get connections() {
      return connections;
    },
    get refused() {
      return refused;
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
