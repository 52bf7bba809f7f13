// A device played by the test itself: its own MQTT connection (with a Last
// Will) to a real broker, a retained status it sets, and frame messages it
// publishes on a schedule the test chooses (steady, slow, bursty, paused),
// so the page's freshness and fleet states are checked against known timing
// without a model. The frames differ from each other (no FROZEN).
import mqtt from 'mqtt';
import { encodeFrameMessage } from '../../contracts/frame-message.js';
import { encodeThumbnail, thumbnailOf } from '../../contracts/thumbnail.js';
import { topicsFor, type Topics } from '../../contracts/topics.js';
import { testFrameMessage } from '../support/frame-fixture.js';
import { sleep } from '../support/aunet-cli.js';

export const FRAMES = Array.from({ length: 8 }, (_, i) => {
  const m = testFrameMessage(64, 64, [true, true, true, true], i + 1);
  m.content = { x: 0, y: 0, width: 64, height: 64 };
  return m;
});

export class SyntheticDevice {
  readonly topics: Topics;
  #n = 0;
  private constructor(
    readonly id: string,
    readonly client: mqtt.MqttClient,
  ) {
    this.topics = topicsFor(id);
  }

  static async connect(url: string, id: string, auth: { username: string; password: string }): Promise<SyntheticDevice> {
    const t = topicsFor(id);
    const client = await mqtt.connectAsync(url, { ...auth, keepalive: 5, will: { topic: t.status, payload: Buffer.from(JSON.stringify({ state: 'offline', online: false, device: id, since: Date.now() })), qos: 1, retain: true } });
    return new SyntheticDevice(id, client);
  }

  /** A retained status: live, with the source's nominal frame rate. */
  async status(fields: Record<string, unknown> = {}, fps: number | null = 10): Promise<void> {
    const st = { state: 'live', online: true, device: this.id, since: Date.now(), ts: Date.now(), model: { name: 'synthetic', sha256: 'random' }, source: { spec: 'test', kind: 'test', live: true, fps }, software: { name: 'aunet-edge', version: '0.1.0' }, paused: false, threshold: 0.5, gates: [1, 2, 3, 4], reasons: [], ...fields };
    await this.client.publishAsync(this.topics.status, JSON.stringify(st), { qos: 1, retain: true });
  }

  frame(): void {
    const m = FRAMES[this.#n % FRAMES.length];
    const now = Date.now();
    const bytes = encodeFrameMessage({ ...m, frameId: ++this.#n, captureTime: now - 5, publishTime: now });
    this.client.publish(this.topics.frame, Buffer.from(bytes), { qos: 0 });
  }

  thumb(): void {
    this.client.publish(this.topics.thumb, Buffer.from(encodeThumbnail(thumbnailOf(FRAMES[this.#n % FRAMES.length]))), { qos: 0 });
  }

  stats(fps: number): void {
    this.client.publish(this.topics.stats, JSON.stringify({ ts: Date.now(), state: 'live', fps: { in: fps, out: fps }, latencyMs: { endToEnd: { p50: 5 } } }), { qos: 0 });
  }

  /** Publish a frame at each offset (ms from now), on a drift-free clock. */
  async play(offsets: number[]): Promise<void> {
    const start = performance.now();
    for (const at of offsets) {
      const wait = start + at - performance.now();
      if (wait > 1) await sleep(wait);
      this.frame();
    }
  }

  /** Disappear without a word (the broker sends the Will). */
  vanish(): void {
    (this.client as unknown as { stream: { destroy(): void } }).stream.destroy();
    this.client.end(true);
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}

/** Frame times: every `period` ms for `ms`, starting at `from`. */
export function steady(from: number, ms: number, period: number): number[] {
  return Array.from({ length: Math.floor(ms / period) }, (_, i) => from + i * period);
}

/** Bursts of `size` frames 15 ms apart, one burst every `every` ms, for `ms`. */
export function bursts(from: number, ms: number, every: number, size = 3): number[] {
  return steady(from, ms, every).flatMap((t) => Array.from({ length: size }, (_, i) => t + i * 15));
}
