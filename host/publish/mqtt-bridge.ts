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
// aedes use) and checked with the same modules as the embedded broker
// (docs/security.md): the upgrade's Host and Origin (websocket-origin.ts),
// CONNECT first, the packet-size limit read from each fixed header before the
// packet is buffered (packet-gate.ts), the sign-in limiter on CONNECTs with a
// username (sign-in-limiter.ts; the check is the broker's CONNACK), the broker
// policy on SUBSCRIBE and PUBLISH (broker-policy.ts). Broker -> browser bytes
// are passed through untouched (frames are the bulk); only their first packet,
// the CONNACK, is read, to tell the limiter whether a sign-in succeeded.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet';
import { WebSocketServer, type WebSocket } from 'ws';
import { judgeWebSocketRequest, refuseUpgrade, type OriginPolicy } from './websocket-origin.js';
import type { SignInLimiter } from './sign-in-limiter.js';
import { ANONYMOUS, SMALL_PACKET_BYTES, mayPublish, maySubscribe, type Identity } from './broker-policy.js';
import { PacketLengthReader } from './packet-gate.js';

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
  /** which pages may connect (requireOrigin: programs should reach the broker itself, not this bridge) */
  origins: OriginPolicy;
  limiter: SignInLimiter;
  /** WebSocket path (default /mqtt) */
  path?: string;
  /** largest packet a browser may send (bytes; default the policy's small packets: commands are at most 4 KiB) */
  maxPacketBytes?: number;
  /** ms to wait for the broker's CONNACK (default 10 s) */
  connackTimeoutMs?: number;
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
/** CONNACK "not authorized": 5 in MQTT 3.1.1, 0x87 in 5 */
const notAuthorized = (version: number) => (version === 5 ? { reasonCode: 0x87 } : { returnCode: 5 });

export function attachMqttBridge(server: HttpServer, o: BridgeOptions): MqttBridge {
  const path = o.path ?? '/mqtt';
  const maxPacket = o.maxPacketBytes ?? SMALL_PACKET_BYTES;
  const connackTimeout = o.connackTimeoutMs ?? 10_000;
  const log = o.log ?? (() => {});
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPacket + 16, handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : p.has('mqttv3.1') ? 'mqttv3.1' : false) });
  const upstream = new URL(o.broker.url);
  let connections = 0;
  let refused = 0;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const refusal = judgeWebSocketRequest(req, path, o.origins);
    if (refusal) {
      log('warn', 'bridge: WebSocket refused', { status: refusal.status, reason: refusal.reason, origin: req.headers.origin, address: req.socket.remoteAddress });
      refuseUpgrade(socket, refusal);
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
    let who: Identity = ANONYMOUS;
    let broker: Socket | null = null;
    let connackSeen = false;
    const connackParser = mqttPacket.parser();
    let closed = false;
    // settles with whether the broker accepted the CONNECT (its CONNACK), false if it closed first
    let accepted: (ok: boolean) => void = () => {};
    const connacked = new Promise<boolean>((r) => (accepted = r));

    const close = (why?: string) => {
      if (closed) return;
      closed = true;
      connections--;
      if (why) log('info', 'bridge: connection closed', { reason: why, address });
      accepted(false);
      broker?.destroy();
      if (ws.readyState === ws.OPEN) ws.close(1000);
      else ws.terminate();
    };
    const toBrowser = (p: Packet) => ws.readyState === ws.OPEN && ws.send(mqttPacket.generate(p, { protocolVersion: version }));
    const toBroker = (p: Packet) => broker?.write(mqttPacket.generate(p, { protocolVersion: version }));

    connackParser.on('packet', (p: Packet) => {
      if (connackSeen || p.cmd !== 'connack') return;
      connackSeen = true;
      accepted(((p as IConnackPacket).returnCode ?? (p as IConnackPacket).reasonCode ?? CONNACK_OK) === CONNACK_OK);
    });

    /** Open the broker connection and send the CONNECT; resolves with the broker's verdict. */
    const connectUpstream = (p: IConnectPacket): Promise<boolean> => {
      if (closed) return Promise.resolve(false);
      broker = openUpstream();
      broker.on('data', (chunk: Buffer) => {
        if (!connackSeen) connackParser.parse(chunk);
        if (ws.readyState === ws.OPEN) ws.send(chunk);
      });
      broker.on('error', (e) => close(`broker: ${e.message}`));
      broker.on('close', () => close());
      toBroker(p);
      for (const q of pending.splice(0)) handle(q);
      const timer = setTimeout(() => close('no CONNACK from the broker'), connackTimeout);
      return connacked.finally(() => clearTimeout(timer));
    };

    const onConnect = async (p: IConnectPacket) => {
      version = p.protocolVersion ?? 4;
      if (p.username !== undefined && p.username !== '') {
        // a sign-in: its turn, delay and outcome are the limiter's; the check is the broker's CONNACK
        who = { role: 'operator', username: p.username };
        const ok = await o.limiter.attempt({ username: p.username, address: address ?? '', origin: origin ?? '' }, () => connectUpstream(p));
        if (!ok && !broker && !closed) {
          // refused unchecked (too many attempts of this key waiting)
          toBrowser({ cmd: 'connack', sessionPresent: false, ...notAuthorized(version) } as Packet);
          close('sign-in refused: too many attempts waiting');
        }
        return;
      }
      if (o.viewer) {
        p.username = o.viewer.username;
        p.password = Buffer.from(o.viewer.password, 'utf8');
      }
      void connectUpstream(p);
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
        const bad = p.subscriptions.filter((s) => !maySubscribe(who, s.topic).ok);
        if (bad.length) {
          refused++;
          log('warn', 'bridge: subscribe refused', { role: who.role, topics: bad.map((s) => s.topic), address });
          // refused as a whole: one failure code per filter (0x80 in 3.1.1, 0x87 "not authorized" in 5)
          toBrowser({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => (version === 5 ? 0x87 : 0x80)) });
          return;
        }
      }
      if (p.cmd === 'publish' && !mayPublish(who, p.topic, p.retain, p.payload?.length ?? 0).ok) {
        refused++;
        log('warn', 'bridge: publish refused', { role: who.role, topic: p.topic, address });
        if (p.qos === 1) toBrowser({ cmd: 'puback', messageId: p.messageId, ...(version === 5 ? { reasonCode: 0x87 } : {}) });
        if (p.qos === 2) close('refused QoS 2 publish');
        return;
      }
      toBroker(p);
    };

    parser.on('packet', handle);
    parser.on('error', (e: Error) => close(`bad MQTT from the browser: ${e.message}`));
    // sizes are read from each fixed header before mqtt-packet buffers the packet
    const sizes = new PacketLengthReader(() => maxPacket);
    ws.on('message', (data: Buffer) => {
      const over = sizes.scan(data);
      if (over) return close(`packet of ${over.announced} bytes over ${maxPacket}`);
      parser.parse(data);
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
