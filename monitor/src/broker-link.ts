// The monitor's MQTT-over-WebSocket connection. Anonymous by default (read only,
// docs/mqtt.md "Who may send commands"); signing in reconnects with the
// operator's username/password, which the broker checks at CONNACK. Commands are
// refused here unless the current connection was accepted WITH credentials, so
// the page never sends `cmd` anonymously. Credentials live only in memory.
import mqtt, { type MqttClient } from 'mqtt';

export interface Credentials {
  username: string;
  password: string;
}

export interface LinkEvents {
  connected(signedIn: boolean): void;
  disconnected(): void;
  /** the broker refused the credentials; the link falls back to anonymous */
  authFailed(message: string): void;
  message(topic: string, payload: Uint8Array): void;
}

export class BrokerLink {
  #client: MqttClient | null = null;
  #creds: Credentials | null = null;
  #signedIn = false;
  #topics = new Set<string>();
  #generation = 0;

  constructor(
    readonly url: string,
    readonly events: LinkEvents,
  ) {}

  get signedIn(): boolean {
    return this.#signedIn;
  }

  get username(): string | null {
    return this.#signedIn ? this.#creds!.username : null;
  }

  /** (Re)connect, anonymously (null) or with credentials. */
  connect(creds: Credentials | null): void {
    this.#close();
    this.#creds = creds;
    this.#signedIn = false;
    const gen = ++this.#generation;
    const client = mqtt.connect(this.url, {
      protocolVersion: 4,
      clientId: `aunet-monitor-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
      keepalive: 5,
      // the live service may come back at any time: retry quickly (the broker is on the LAN)
      reconnectPeriod: 500,
      connectTimeout: 4000,
      resubscribe: false, // we subscribe on every connect ourselves
      queueQoSZero: false,
      ...(creds ? { username: creds.username, password: creds.password } : {}),
    });
    this.#client = client;
    const mine = () => gen === this.#generation;
    client.on('connect', () => {
      if (!mine()) return;
      this.#signedIn = creds !== null;
      if (this.#topics.size) client.subscribe([...this.#topics], { qos: 0 });
      this.events.connected(this.#signedIn);
    });
    client.on('close', () => {
      if (!mine()) return;
      this.#signedIn = false;
      this.events.disconnected();
    });
    client.on('error', (err: Error & { code?: number | string }) => {
      if (!mine()) return;
      // CONNACK 4/5 (3.1.1): bad username or password / not authorised
      if (creds && (err.code === 4 || err.code === 5 || /username|password|authori[sz]ed/i.test(err.message))) {
        this.events.authFailed(err.message);
        queueMicrotask(() => this.connect(null));
      }
    });
    client.on('message', (topic, payload) => {
      if (!mine()) return;
      this.events.message(topic, new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
    });
  }

  subscribe(topics: string[]): void {
    for (const t of topics) this.#topics.add(t);
    if (this.#client?.connected) this.#client.subscribe(topics, { qos: 0 });
  }

  unsubscribe(topics: string[]): void {
    for (const t of topics) this.#topics.delete(t);
    if (this.#client?.connected) this.#client.unsubscribe(topics);
  }

  /** Publish a command; throws unless signed in and connected. */
  sendCommand(topic: string, body: Record<string, unknown>): void {
    if (!this.#signedIn || !this.#client?.connected) throw new Error('sign in to send commands');
    this.#client.publish(topic, JSON.stringify(body), { qos: 1 });
  }

  #close(): void {
    const c = this.#client;
    this.#client = null;
    this.#generation++;
    if (c) c.end(true);
  }
}
