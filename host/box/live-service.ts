// The live service, what `aunet run` runs: model + engine + source + pipeline + broker link, and
// the MQTT side of docs/mqtt.md (retained status with a Last Will, frames,
// ~1 Hz stats, commands with replies).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { FrameSource } from '../../camera/frame.js';
import { preprocess } from '../../camera/preprocess.js';
import type { RunConfig } from '../../contracts/run-config.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { startEmbeddedBroker, type EmbeddedBroker, type OperatorDirectory } from '../publish/broker.js';
import { Publisher, redact } from '../publish/client.js';
import { ThumbnailPacer } from '../publish/thumbnails.js';
import { topicsFor, type Topics } from '../../contracts/topics.js';
import { frameMessageBytes, MAX_CONTOUR_POINTS, MAX_POLYGONS } from '../../contracts/frame-message.js';
import { parseCommand, thresholdByte, type Command } from '../../contracts/command.js';
import { loadModel, type LoadedModel } from '../load/model-loader.js';
import { loadEngine, type EngineRequest, type LoadedEngine } from '../load/engine-loader.js';
import type { AsyncEngine, Engine } from '../engine/engine.js';
import { WorkerEngine, type RuntimeModule } from './worker-engine.js';
import { defaultThreads } from '../../common/thread-count.js';
import { lowerOtherThreads, OTHER_THREADS_NICE } from '../../common/thread-priority.js';
import { FRAMES_HEAP_GROWING_PERCENT, setHeapGrowth } from '../../common/heap-growth.js';

/** The engine `aunet run` asks for under `config` (also what pipeline.bench.ts times alone). */
export function liveEngineRequest(config: RunConfig): Omit<EngineRequest, 'kernels'> {
  return { engine: config.engine, chip: config.chip.preset, sramBytes: config.chip.sramBytes, fallbackToDirect: config.pipeline.fallbackToDirect, threads: config.threads ?? defaultThreads(), flags: { threads: '--threads (threads)' } };
}

/** The engine the service runs: on the main thread (tests) or in its own thread. */
type LiveEngine = Omit<LoadedEngine, 'engine'> & { engine: Engine | AsyncEngine };
import { decisionRule } from '../../models/lesion-decision.js';
import { fromModelInput, Pipeline, type Preprocessor } from '../pipeline/pipeline.js';
import { ThreadedSource, type FramePreparation } from '../pipeline/threaded-source.js';
import { readInputFile, readPasswordFile } from '../../common/input-file.js';
import { FileError } from '../../common/errors.js';
import { UserStore, defaultUserStorePath } from '../publish/user-store.js';
import type { FirmwareStatus } from '../../contracts/firmware-status.js';


export interface LiveServiceOptions {
  config: RunConfig;
  log: Logger;
  /** software version for the status message */
  version: string;
  /** tests: kernels for the engine, which then runs on the main thread (default: the engine in its own thread) */
  kernels?: () => KernelSet | Promise<KernelSet>;
  /** tests: an already open source instead of config.source */
  source?: FrameSource;
  /** the embedded broker's operator accounts (default: the store broker.userStore names) */
  operators?: OperatorDirectory;
  /** the kernel module to run (a firmware image's runtime section) instead of build/'s */
  runtime?: RuntimeModule;
  /** a model already loaded (a firmware image's model section) instead of config.model */
  model?: LoadedModel;
  /** publish through this broker (the box agent's) instead of config.broker; no embedded broker is started */
  broker?: { url: string; username?: string; password?: string };
  /** the firmware image this runs from (the box), shown in the status; null for `aunet run` */
  firmware?: FirmwareStatus | null;
  /** leave the Last Will to whoever owns the device's presence (the box agent); default true */
  lastWill?: boolean;
}

export class LiveService {
  readonly topics: Topics;
  #statsTimer: NodeJS.Timeout | null = null;
  #stopped = false;
  /** why the source is lost (the capture device's cause, with the reconnect attempt), while it is */
  #sourceLost: string | undefined;
  #resolveDone: () => void = () => {};
  #firmware: FirmwareStatus | null;
  /** resolves when the pipeline has ended (finite source) or the service stopped */
  readonly done: Promise<void>;

  private constructor(
    readonly config: RunConfig,
    readonly log: Logger,
    readonly version: string,
    readonly model: LoadedModel,
    readonly engine: LiveEngine,
    readonly source: FrameSource,
    readonly pipeline: Pipeline,
    readonly publisher: Publisher,
    readonly broker: EmbeddedBroker | null,
    firmware: FirmwareStatus | null,
  ) {
    this.topics = topicsFor(config.device);
    this.#firmware = firmware;
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve;
      pipeline.once('ended', () => resolve());
      pipeline.once('error', reject);
    });
  }

  static async start(o: LiveServiceOptions): Promise<LiveService> {
    const { config, log } = o;
    // fewer full collections of this thread's heap, which take in a few hundred KB of buffers a frame (common/heap-growth.ts)
    setHeapGrowth(FRAMES_HEAP_GROWING_PERCENT);
    log.info({ percent: FRAMES_HEAP_GROWING_PERCENT }, 'heap growth between full collections set');
    const ca = config.broker.tls.ca ? readInputFile(config.broker.tls.ca, 'the broker CA certificate (broker.tls.ca)') : undefined;
    const servicePassword = config.broker.passwordFile ? readPasswordFile(config.broker.passwordFile, 'the broker password file (broker.passwordFile)') : config.broker.password;
    const model = o.model ?? (await loadModel(config.model));
    const arch = model.model.arch;
    log.info({ model: model.name, sha256: model.sha256, arch, decision: decisionRule(model.model) }, 'model loaded');
    const largest = frameMessageBytes(arch.width, arch.height, [1, 2, 3, 4].map((k) => config.publish.gates.includes(k)), 2 + MAX_POLYGONS * 2 + MAX_CONTOUR_POINTS * 4);
    if (largest > 65536) log.warn({ bytes: largest }, `frame messages can reach ${largest} bytes at ${arch.width}x${arch.height}, over the 64 KiB budget; publish fewer gates`);
    const request = liveEngineRequest(config);
    // inference in its own thread, off the event loop that serves the broker and publishes
    const starting: Promise<LiveEngine> = o.kernels
      ? loadEngine(model.model, { ...request, threads: undefined, kernels: o.kernels })
      : WorkerEngine.start(model.model, request, o.runtime).then((w) => ({ ...w.choice, engine: w, close: () => w.close() }));
    // capture runs in its own thread (decoding, the phantom's speckle) beside inference, and makes
    // each frame's model input there, so that the main thread only moves frames, publishes and
    // serves; both threads load their modules at once, which shortens a start (and a box's restart) by one load
    const preparation: FramePreparation = { size: { width: arch.width, height: arch.height, channels: arch.channels }, preprocessing: model.model.preprocessing };
    const opening: Promise<FrameSource> = o.source ? Promise.resolve(o.source) : ThreadedSource.open(config.source, { realtime: config.pipeline.realtime, prepare: preparation });
    const [e, s] = await Promise.allSettled([starting, opening]);
    if (e.status === 'rejected' || s.status === 'rejected') {
      if (e.status === 'fulfilled') await e.value.close?.();
      if (s.status === 'fulfilled' && !o.source) await s.value.close(); // its thread would keep the process alive
      throw e.status === 'rejected' ? e.reason : (s as PromiseRejectedResult).reason;
    }
    const engine = e.value;
    const source = s.value;
    if (engine.fallback) log.warn(engine.fallback);
    log.info({ engine: engine.kind, preset: engine.preset, thread: o.kernels ? 'main' : 'worker', kernelThreads: engine.threads }, 'engine ready');
    // inference first (common/thread-priority.ts): the inference thread and its kernel threads keep
    // their priority; every other thread of this process (this one, capture, V8's and libuv's) is lowered
    if (!o.kernels && engine.threadIds.length > 0) {
      const lowered = lowerOtherThreads(engine.threadIds, OTHER_THREADS_NICE);
      log.info({ lowered, nice: OTHER_THREADS_NICE, kept: engine.threadIds.length }, 'threads other than inference lowered');
    }
    // frames from the capture thread come preprocessed; this is for a source opened by the caller
    const prep: Preprocessor = (f) => fromModelInput(preprocess({ width: f.width, height: f.height, data: f.pixels }, preparation.size, preparation.preprocessing));

    let broker: EmbeddedBroker | null = null;
    let url = o.broker?.url ?? config.broker.url;
    let username = o.broker ? o.broker.username : config.broker.username;
    let password = o.broker ? o.broker.password : servicePassword;
    if (!o.broker && url === 'embedded') {
      try {
        broker = await startEmbeddedBroker({
          port: config.broker.port,
          httpPort: config.broker.httpPort,
          operators: o.operators ?? new UserStore(config.broker.userStore ?? defaultUserStorePath()),
          allowedOrigins: config.broker.allowedOrigins,
          allowedHosts: config.broker.allowedHosts,
          // the live service's own packets: its largest frame message with every gate (a `gates`
          // command may add them), with room for the topic and header
          maxServicePacketBytes: frameMessageBytes(arch.width, arch.height, [true, true, true, true], 2 + MAX_POLYGONS * 2 + MAX_CONTOUR_POINTS * 4) + 512,
          device: config.device,
          log: (level, msg, fields) => log[level](fields ?? {}, msg),
        });
      } catch (e) {
        await source.close(); // its thread would keep the process alive
        await engine.close();
        throw e;
      }
      url = broker.url;
      ({ username, password } = broker.serviceUser);
      log.info({ mqtt: broker.url, ws: broker.wsUrl }, 'embedded broker listening');
    }
    const topics = topicsFor(config.device);
    const since = Date.now();
    const publisher = new Publisher({
      url,
      username,
      password,
      // not guessable: a client id is a handle to take a connection over (broker-policy.ts)
      clientId: `aunet-${config.device}-${randomBytes(12).toString('hex')}`,
      keepalive: config.broker.keepalive,
      will: o.lastWill === false ? undefined : { topic: topics.status, payload: JSON.stringify({ state: 'offline', online: false, device: config.device, since }), qos: 1, retain: true },
      ca,
      rejectUnauthorized: config.broker.tls.rejectUnauthorized,
    });
    const thumbs = new ThumbnailPacer(config.publish.thumbnailIntervalMs);
    const publishFrame = (bytes: Uint8Array): boolean => {
      const sent = publisher.publishVolatile(topics.frame, bytes);
      const thumb = sent ? thumbs.offer(bytes, Date.now()) : null;
      if (thumb) publisher.publishVolatile(topics.thumb, thumb);
      return sent;
    };
    const pipeline = new Pipeline(source, prep, engine.engine, publishFrame, {
      realtime: config.pipeline.realtime,
      warmupFrames: config.pipeline.warmupFrames,
      threshold: thresholdByte(config.publish.threshold),
      gates: config.publish.gates,
      decision: decisionRule(model.model),
    });
    if (engine.fallback) pipeline.state.degrade('engine-fallback');
    const service = new LiveService(config, log, o.version, model, engine, source, pipeline, publisher, broker, o.firmware ?? null);
    service.#wire();
    try {
      await publisher.start(5000);
      log.info({ broker: redact(url) }, 'connected to broker');
      // the retained status is at the broker before start() returns: with inference in its
      // own thread nothing else delays a subscriber that connects right after
      await service.#publishStatus();
    } catch (e) {
      if ((e as { code?: string }).code !== 'BROKER_TIMEOUT') {
        await service.stop();
        throw e;
      }
      log.warn({ broker: redact(url) }, 'broker not reachable yet; running and retrying');
    }
    void pipeline.run().catch((e: Error) => log.error({ err: e }, 'pipeline failed'));
    return service;
  }

  /** The image now runs confirmed (or on trial): say so in the status. */
  setFirmware(firmware: FirmwareStatus | null): void {
    this.#firmware = firmware;
    void this.#publishStatus();
  }

  /** The monitor's address (embedded broker only). */
  get monitorUrl(): string | null {
    return this.broker?.monitorUrl ?? null;
  }

  #wire(): void {
    const { pipeline, publisher, log, topics } = this;
    publisher.on('connect', () => {
      void this.#publishStatus();
      publisher.subscribe(topics.cmd);
    });
    publisher.on('state', (s) => log.info({ link: s }, `broker link ${s}`));
    publisher.on('error', (e) => log.debug({ err: e.message }, 'broker link error'));
    publisher.on('message', (topic, payload, retained) => {
      if (topic === topics.cmd) this.#onCommand(payload, retained);
    });
    pipeline.state.on('change', (c) => {
      log.info({ state: c.state, previous: c.previous, reasons: c.reasons }, `pipeline ${c.state}`);
      if (c.state !== 'stopped') void this.#publishStatus(); // stop() publishes 'stopped' itself, before disconnecting
    });
    // the cause of every loss and failed reconnect attempt, logged and published with the status
    this.source.on('state', (c) => {
      if (c.state === 'lost') {
        this.#sourceLost = `${c.reason ?? 'unknown cause'}${c.attempt ? ` (reconnect attempt ${c.attempt})` : ''}`;
        log.warn({ source: this.source.info.spec, reason: c.reason, attempt: c.attempt }, `source lost: ${this.#sourceLost}`);
        void this.#publishStatus();
      } else if (c.state === 'connecting' && c.attempt) {
        this.#sourceLost = `${c.reason ?? 'unknown cause'} (reconnect attempt ${c.attempt})`;
      } else if (c.state === 'live') this.#sourceLost = undefined;
    });
    for (const w of this.source.warnings) log.warn({ source: this.source.info.spec }, w);
    this.source.on('warning', (w) => log.warn({ source: this.source.info.spec }, w));
    pipeline.on('ended', () => {
      log.info('source ended');
      if (!this.#stopped) pipeline.state.degrade('source-ended');
    });
    this.#statsTimer = setInterval(() => this.#publishStats(), this.config.publish.statsIntervalMs);
  }

  #statusPayload(): Record<string, unknown> {
    const st = this.pipeline.state;
    const arch = this.model.model.arch;
    const info = this.source.info;
    const base = { state: st.state, online: st.state !== 'stopped', device: this.config.device, since: st.since, ts: Date.now(), firmware: this.#firmware };
    if (st.state === 'stopped') return base;
    return {
      ...base,
      model: { name: this.model.name, sha256: this.model.sha256, input: { width: arch.width, height: arch.height, channels: arch.channels }, filters: arch.filters },
      engine: this.engine.kind,
      chip: { preset: this.engine.preset },
      source: { spec: info.spec, kind: info.kind, live: info.live, fps: info.fps ?? null },
      software: { name: 'aunet-edge', version: this.version },
      paused: this.pipeline.paused,
      threshold: this.pipeline.threshold / 256,
      gates: [...this.pipeline.gates].sort(),
      reasons: st.reasons,
      reason: st.reasons.length ? st.reasons.map((r) => this.#reasonText(r)).join('; ') : undefined,
    };
  }

  /** A degraded reason in words: the engine's fallback and the source's loss say why. */
  #reasonText(r: string): string {
    if (r === 'engine-fallback' && this.engine.fallback) return this.engine.fallback;
    if (r === 'source-lost' && this.#sourceLost) return `source lost: ${this.#sourceLost}`;
    return r;
  }

  async #publishStatus(): Promise<void> {
    await this.publisher.publishReliable(this.topics.status, JSON.stringify(this.#statusPayload()), true);
  }

  #publishStats(): void {
    const snap = this.pipeline.stats.snapshot();
    const { droppedInInterval, ...rest } = snap;
    const framesInInterval = Math.max(1, Math.round(snap.fps.in * snap.intervalS));
    // more than a tenth of the frames dropped in an interval: the pipeline cannot keep up
    if (droppedInInterval > 0.1 * framesInInterval && this.pipeline.stats.warm) this.pipeline.state.degrade('falling-behind');
    else if (droppedInInterval === 0) this.pipeline.state.recover('falling-behind');
    const payload = { ...rest, state: this.pipeline.state.state, broker: { connected: this.publisher.connected, reconnects: this.publisher.reconnects, queued: this.publisher.pending.queued } };
    this.publisher.publishVolatile(this.topics.stats, JSON.stringify(payload));
  }

  #onCommand(payload: Buffer, retained: boolean): void {
    // an empty message is how a retained command is cleared, not a command
    if (payload.length === 0) return;
    // a retained command would replay at every start (an operator's pause left behind); the
    // embedded broker refuses them, an external one (Mosquitto) cannot per topic: ignore and clear it
    if (retained) {
      this.log.warn({ topic: this.topics.cmd, bytes: payload.length }, 'retained command ignored and cleared on the broker');
      void this.publisher.publishReliable(this.topics.cmd, '', true);
      return;
    }
    const r = parseCommand(payload);
    if (!r.ok) {
      this.log.warn({ error: r.error, id: r.id }, 'command rejected');
      this.#reply({ id: r.id, ok: false, error: r.error });
      return;
    }
    this.#apply(r.command);
    this.log.info({ cmd: r.command }, 'command applied');
    this.#reply({ id: r.command.id ?? null, ok: true, cmd: r.command.cmd });
    void this.#publishStatus();
  }

  #apply(c: Command): void {
    const p = this.pipeline;
    switch (c.cmd) {
      case 'pause':
        p.paused = true;
        break;
      case 'resume':
        p.paused = false;
        break;
      case 'threshold':
        p.threshold = thresholdByte(c.value);
        break;
      case 'gates':
        p.gates = new Set(c.gates);
        break;
    }
  }

  #reply(body: Record<string, unknown>): void {
    this.publisher.publishVolatile(this.topics.cmdReply, JSON.stringify({ ...body, ts: Date.now() }));
  }

  /** Clean shutdown: status `stopped` (retained), disconnect without the Will, broker down. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    await this.pipeline.stop();
    await this.engine.close();
    await this.#publishStatus().catch(() => {});
    await this.publisher.close();
    await this.broker?.close();
    this.#resolveDone();
  }
}
