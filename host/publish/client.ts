// The live service's MQTT connection: wraps mqtt.js with our own reconnect policy
// (capped exponential backoff, injectable timer) and a publish path that never
// buffers without bound: QoS 0 messages are dropped while offline or while the
// socket is backed up, and nothing is queued for later (docs/mqtt.md, Robustness).
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { AunetError, type ErrorCode } from '../../common/errors.js';
import { Backoff, DEFAULT_BACKOFF, realTimer, type BackoffOptions, type Timer } from './backoff.js';

export type LinkState = 'connecting' | 'connected' | 'offline' | 'closed';

export interface Will {
  topic: string;
  payload: string | Uint8Array;
  qos: 0 | 1;
  retain: boolean;
}

export interface PublisherOptions {
  /** mqtt://, mqtts://, ws://, wss:// */
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  will?: Will;
  /** seconds; the broker sends the Will after 1.5x this without traffic */
  keepalive?: number;
  /** TLS: CA certificate(s) in PEM, and whether to check the server certificate */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  backoff?: BackoffOptions;
  timer?: Timer;
  /** drop QoS 0 messages while more than this many bytes wait in the socket */
  maxBufferedBytes?: number;
  /** MQTT protocol version (4 = 3.1.1, 5) */
  protocolVersion?: 4 | 5;
}

export interface PublisherEvents {
  state: [LinkState];
  /** each successful (re)connect; re-publish retained state here */
  connect: [];
  /** retained: delivered from the broker's store (a new subscription), not published just now */
  message: [topic: string, payload: Buffer, retained: boolean];
  /** a connection or protocol problem, already handled by reconnecting */
  error: [Error];
}

/** The broker refused us or cannot be reached: the message names the broker and the fix. */
export class PublishError extends AunetError {
  constructor(message: string, code: ErrorCode) {
    super(code, message);
    this.name = 'PublishError';
  }
}

export class Publisher extends EventEmitter<PublisherEvents> {
  #client: MqttClient | null = null;
  #state: LinkState = 'connecting';
  #subscriptions = new Set<string>();
  readonly #backoff: Backoff;
  readonly #maxBuffered: number;
  /** successful connects after the first */
  reconnects = 0;
  #connectedOnce = false;

  constructor(readonly options: PublisherOptions) {
    super();
    this.#backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, options.timer ?? realTimer);
    this.#maxBuffered = options.maxBufferedBytes ?? 1 << 20;
  }

  get state(): LinkState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** Start connecting; resolves on the first CONNACK, rejects if it is refused (bad credentials) or times out. */
  start(firstConnectTimeoutMs = 10_000): Promise<void> {
    const o = this.options;
    const opts: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      keepalive: o.keepalive ?? 5,
      clean: true,
      // reconnects are ours (capped backoff); mqtt.js's fixed-period timer stays off
      reconnectPeriod: 0,
      connectTimeout: 3000,
      queueQoSZero: false,
      resubscribe: false,
      protocolVersion: o.protocolVersion ?? 4,
      will: o.will ? { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: o.will.qos, retain: o.will.retain } : undefined,
      ca: o.ca,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
    };
    const client = mqtt.connect(o.url, opts);
    this.#client = client;
    return new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => {
        reject(new PublishError(`no answer from broker ${redact(o.url)} within ${firstConnectTimeoutMs} ms`, 'BROKER_TIMEOUT'));
      }, firstConnectTimeoutMs);
      client.on('connect', () => {
        clearTimeout(timeout);
        if (this.#connectedOnce) this.reconnects++;
        this.#connectedOnce = true;
        this.#backoff.reset();
        for (const t of this.#subscriptions) client.subscribe(t, { qos: 0 }, () => {});
        this.#setState('connected');
        this.emit('connect');
        resolve();
      });
      client.on('message', (topic, payload, packet) => this.emit('message', topic, payload, packet.retain));
      client.on('error', (err: Error & { code?: unknown }) => {
        // CONNACK refusals (bad credentials, not authorised) will not fix themselves
        if (!this.#connectedOnce && (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135)) {
          clearTimeout(timeout);
          reject(new PublishError(`broker ${redact(o.url)} refused the connection: ${err.message}`, 'BROKER_REFUSED'));
          void this.close();
          return;
        }
        // a certificate the CA does not vouch for will not fix itself either
        if (!this.#connectedOnce && typeof err.code === 'string' && TLS_ERRORS.test(err.code)) {
          clearTimeout(timeout);
          reject(new PublishError(`TLS to ${redact(o.url)} failed: ${err.message} (${err.code}); check broker.tls.ca`, 'BROKER_TLS'));
          void this.close();
          return;
        }
        if (this.listenerCount('error') > 0) this.emit('error', err);
      });
      client.on('close', () => {
        if (this.#state === 'closed') return;
        this.#setState('offline');
        this.#backoff.schedule(() => {
          if (this.#state === 'closed') return;
          this.#setState('connecting');
          client.reconnect();
        });
      });
    });
  }

  /** Packets waiting inside mqtt.js (its offline queue and unacknowledged QoS 1): stays 0 offline. */
  get pending(): { queued: number; inflight: number; socketBytes: number } {
    const c = this.#client as unknown as { queue?: unknown[]; outgoing?: Record<string, unknown>; stream?: { writableLength?: number } } | null;
    return { queued: c?.queue?.length ?? 0, inflight: Object.keys(c?.outgoing ?? {}).length, socketBytes: c?.stream?.writableLength ?? 0 };
  }

  /** Subscribe now and after every reconnect. */
  subscribe(topic: string): void {
    this.#subscriptions.add(topic);
    if (this.connected) this.#client?.subscribe(topic, { qos: 0 }, () => {});
  }

  /**
   * Fire-and-forget QoS 0 publish. Returns false (and sends nothing) when offline
   * or when the socket already holds more than maxBufferedBytes.
   */
  publishVolatile(topic: string, payload: Uint8Array | string, retain = false): boolean {
    const c = this.#client;
    if (!c || !this.connected) return false;
    const stream = (c as unknown as { stream?: { writableLength?: number } }).stream;
    if (stream && (stream.writableLength ?? 0) > this.#maxBuffered) return false;
    c.publish(topic, toBuffer(payload), { qos: 0, retain }, () => {});
    return true;
  }

  /**
   * QoS 1 publish, only while connected (resolves false otherwise: the caller
   * republishes its retained state on the next 'connect', so nothing queues up).
   */
  async publishReliable(topic: string, payload: Uint8Array | string, retain: boolean): Promise<boolean> {
    const c = this.#client;
    if (!c || !this.connected) return false;
    try {
      await c.publishAsync(topic, toBuffer(payload), { qos: 1, retain });
      return true;
    } catch {
      return false;
    }
  }

  /** Disconnect cleanly (the broker does not send the Will). */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    this.#backoff.cancel();
    const c = this.#client;
    if (!c) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        c.end(true);
        resolve();
      }, 1000);
      c.end(false, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #setState(s: LinkState): void {
    if (s === this.#state) return;
    this.#state = s;
    this.emit('state', s);
  }
}

const TLS_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|ERR_SSL|ERR_TLS/;

function toBuffer(p: Uint8Array | string): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}

/** A broker URL without its password, for logs and errors. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
