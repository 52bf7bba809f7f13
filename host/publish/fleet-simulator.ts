// N simulated boxes on one broker (`aunet fleet simulate`, docs/fleet.md): each
// its own MQTT connection with a Last Will, a retained status, ~1 Hz stats,
// ~1 Hz thumbnails and frame messages at a chosen rate, replayed from frame
// messages recorded off a real live service (re-stamped with new ids and
// times, so a monitor sees them as new). The devices are staggered over the
// frame period so the broker sees a steady stream, not N-message bursts.
// It measures what it could send: a box that cannot publish (socket backed
// up, broker gone) drops, as the live service does.
import { restampFrameMessage, decodeFrameMessage } from '../../contracts/frame-message.js';
import { topicsFor, type Topics } from '../../contracts/topics.js';
import { Publisher } from './client.js';
import { ThumbnailPacer } from './thumbnails.js';

export interface SimulatorOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: string | Buffer;
  devices: number;
  /** device ids are PREFIX-001, PREFIX-002, ... */
  prefix: string;
  /** frame messages per second per device (0 = status, stats and thumbnails only) */
  fps: number;
  thumbnailIntervalMs: number;
  statsIntervalMs: number;
  messages: readonly Uint8Array[];
  /** the software version the statuses carry */
  version: string;
}

export interface SimulatorCounters {
  frames: number;
  thumbs: number;
  stats: number;
  /** frames not sent: the connection was down or its socket backed up */
  dropped: number;
  /** frames sent more than one period late (the simulator itself could not keep up) */
  late: number;
}

interface SimDevice {
  id: string;
  topics: Topics;
  publisher: Publisher;
  thumbs: ThumbnailPacer;
  next: number;
  frameId: number;
  sentInInterval: number;
  since: number;
}

const CONNECT_BATCH = 20;

export class FleetSimulator {
  readonly counters: SimulatorCounters = { frames: 0, thumbs: 0, stats: 0, dropped: 0, late: 0 };
  #timer: NodeJS.Timeout | null = null;
  #statsTimer: NodeJS.Timeout | null = null;
  readonly #transit: number;

  private constructor(
    readonly o: SimulatorOptions,
    readonly devices: SimDevice[],
  ) {
    // the recorded capture -> publish time, kept in the replayed messages and the stats
    const d = o.messages.map((m) => decodeFrameMessage(m)).map((m) => m.publishTime - m.captureTime).sort((a, b) => a - b);
    this.#transit = d[d.length >> 1] ?? 0;
  }

  static async start(o: SimulatorOptions): Promise<FleetSimulator> {
    if (!o.messages.length) throw new RangeError('the simulator needs at least one recorded frame message');
    const ids = Array.from({ length: o.devices }, (_, i) => `${o.prefix}-${String(i + 1).padStart(3, '0')}`);
    const devices: SimDevice[] = [];
    const now = Date.now();
    for (let i = 0; i < ids.length; i += CONNECT_BATCH) {
      const batch = ids.slice(i, i + CONNECT_BATCH).map(async (id, j) => {
        const topics = topicsFor(id);
        const publisher = new Publisher({
          url: o.url,
          username: o.username,
          password: o.password,
          ca: o.ca,
          clientId: `aunet-sim-${id}-${process.pid}`,
          will: { topic: topics.status, payload: JSON.stringify({ state: 'offline', online: false, device: id, since: now }), qos: 1, retain: true },
        });
        await publisher.start(10_000);
        const period = o.fps > 0 ? 1000 / o.fps : 0;
        return { id, topics, publisher, thumbs: new ThumbnailPacer(o.thumbnailIntervalMs), next: performance.now() + (period * (i + j)) / o.devices, frameId: 0, sentInInterval: 0, since: now };
      });
      devices.push(...(await Promise.all(batch)));
    }
    const sim = new FleetSimulator(o, devices);
    for (const d of devices) {
      d.publisher.on('connect', () => void sim.#status(d, 'live'));
      await sim.#status(d, 'live');
    }
    sim.#run();
    return sim;
  }

  #status(d: SimDevice, state: 'live' | 'stopped'): Promise<boolean> {
    const base = { state, online: state !== 'stopped', device: d.id, since: d.since, ts: Date.now() };
    const body =
      state === 'stopped'
        ? base
        : {
            ...base,
            model: { name: 'recorded frames', sha256: 'recorded' },
            engine: 'simulated',
            chip: { preset: null },
            source: { spec: 'aunet fleet simulate', kind: 'simulator', live: true, fps: this.o.fps || null },
            software: { name: 'aunet-edge', version: this.o.version },
            paused: false,
            threshold: 0.5,
            gates: [1, 2, 3, 4],
            reasons: [],
          };
    return d.publisher.publishReliable(d.topics.status, JSON.stringify(body), true);
  }

  /** The device's next recorded message as a new frame captured `transit` ms ago. */
  #nextFrame(d: SimDevice, now: number): Uint8Array {
    const m = this.o.messages[d.frameId % this.o.messages.length];
    return restampFrameMessage(m, ++d.frameId, now - this.#transit, now);
  }

  #run(): void {
    const period = this.o.fps > 0 ? 1000 / this.o.fps : 0;
    if (period > 0) {
      this.#timer = setInterval(() => {
        const t = performance.now();
        for (const d of this.devices) {
          if (d.next > t) continue;
          if (t - d.next > period) {
            this.counters.late++;
            d.next = t;
          }
          d.next += period;
          const now = Date.now();
          const bytes = this.#nextFrame(d, now);
          if (!d.publisher.publishVolatile(d.topics.frame, bytes)) {
            this.counters.dropped++;
            continue;
          }
          this.counters.frames++;
          d.sentInInterval++;
          const thumb = d.thumbs.offer(bytes, now);
          if (thumb && d.publisher.publishVolatile(d.topics.thumb, thumb)) this.counters.thumbs++;
        }
      }, Math.max(2, Math.min(20, period / 4)));
    }
    this.#statsTimer = setInterval(() => {
      const now = Date.now();
      for (const d of this.devices) {
        // without frames, the thumbnail still comes from the recording
        if (period === 0) {
          const thumb = d.thumbs.offer(this.#nextFrame(d, now), now);
          if (thumb && d.publisher.publishVolatile(d.topics.thumb, thumb)) this.counters.thumbs++;
        }
        const secs = this.o.statsIntervalMs / 1000;
        const stats = {
          ts: now,
          state: 'live',
          uptimeS: (now - d.since) / 1000,
          intervalS: secs,
          fps: { in: this.o.fps, out: d.sentInInterval / secs },
          frames: { in: d.frameId, out: d.frameId, dropped: { source: 0, late: 0, inference: 0, publish: 0 } },
          warmupFrames: 0,
          latencyMs: { endToEnd: { p50: this.#transit, p99: this.#transit, max: this.#transit, n: d.frameId } },
          chip: { cyclesPerFrame: null },
          broker: { connected: d.publisher.connected, reconnects: d.publisher.reconnects, queued: 0 },
        };
        d.sentInInterval = 0;
        if (d.publisher.publishVolatile(d.topics.stats, JSON.stringify(stats))) this.counters.stats++;
      }
    }, this.o.statsIntervalMs);
  }

  /** Clean stop: each device publishes `stopped` and disconnects (no Will). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    await Promise.all(
      this.devices.map(async (d) => {
        await this.#status(d, 'stopped').catch(() => false);
        await d.publisher.close();
      }),
    );
  }
}
