// The box: boots the slot the policy picks (firmware/boot.ts), starts the
// pipeline child from that image's own runtime build, model, configuration
// (overlaid with the box's settings) and monitor bundle, and decides the
// trial: it confirms when the pipeline has passed its self-test and then stayed
// healthy (alive, its heartbeats arriving: no camera needed) for
// healthyForMs; it reverts to the confirmed image on a self-test mismatch or a
// crash loop (crashLimit crashes within crashWindowMs). A confirmed image's
// pipeline that crashes is restarted with backoff. Operations (boot, reboot,
// revert, restart) run one at a time, in order.
import { createHash, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { boxRunConfig, readImageConfig, type BoxSettings } from '../../contracts/box-settings.js';
import type { FirmwareStatus } from '../../contracts/firmware-status.js';
import type { RunConfig } from '../../contracts/run-config.js';
import { chooseBoot, confirmTrial, rejectTrial } from '../../firmware/boot.js';
import type { ParsedImage } from '../../firmware/image.js';
import { section } from '../../firmware/image.js';
import type { SlotName, Storage } from '../../firmware/slots.js';
import { Backoff } from '../publish/backoff.js';
import type { BoxControl } from './agent.js';
import type { BoxServices } from './box-services.js';
import type { PipelineExit, PipelineHandle, PipelineLauncher } from './pipeline-process.js';
import { chooseRuntime, type ExecutableBuild } from './runtime-choice.js';
import { extractMonitor } from './slot-monitor.js';

export interface BoxPolicy {
  /** boots of a trial slot without confirming before it is abandoned (power cuts, agent crashes) */
  maxTrialBoots: number;
  /** how long a trial pipeline must stay healthy after its self-test before the image is confirmed */
  healthyForMs: number;
  /** crashes within crashWindowMs that end a trial (revert) */
  crashLimit: number;
  crashWindowMs: number;
  /** no heartbeat for this long: the child is killed and counts as a crash */
  watchdogMs: number;
  /** a clean stop that takes longer ends in SIGKILL */
  stopTimeoutMs: number;
}

export const DEFAULT_POLICY: BoxPolicy = { maxTrialBoots: 3, healthyForMs: 10_000, crashLimit: 3, crashWindowMs: 60_000, watchdogMs: 15_000, stopTimeoutMs: 5_000 };
export const HEARTBEAT_MS = 1000;

export interface BoxOptions {
  storage: Storage;
  publicKey: KeyObject;
  hardwareId: string;
  settings: BoxSettings;
  settingsFile: string;
  services: BoxServices;
  launcher: PipelineLauncher;
  policy: BoxPolicy;
  /** installed software version */
  software: string;
  log: Logger;
  point?: (name: string) => void;
}

type PipelineState = 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed' | 'no-image';

interface Running {
  slot: SlotName;
  image: ParsedImage;
  headSha256: string;
  trial: boolean;
  runtime: ExecutableBuild | null;
  firmware: FirmwareStatus;
}

export class Box implements BoxControl {
  #run: Running | null = null;
  #proc: PipelineHandle | null = null;
  #state: PipelineState = 'stopped';
  #since = Date.now();
  #pipelineState: string | null = null;
  #lastExit: PipelineExit | null = null;
  #noImage: string | null = null;
  #crashes: number[] = [];
  #healthy: NodeJS.Timeout | null = null;
  #restart = new Backoff({ initialMs: 500, factor: 2, maxMs: 30_000, jitter: 0.1 });
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #point: (name: string) => void;

  constructor(private readonly o: BoxOptions) {
    this.#point = o.point ?? (() => {});
  }

  /** First boot; resolves once the pipeline has been started (or the box has settled on "no image"). */
  start(): Promise<void> {
    return this.#enqueue(() => this.#boot());
  }

  reboot(): void {
    void this.#enqueue(async () => {
      this.o.log.info('reboot requested: stopping the pipeline, booting again');
      await this.#stop('reboot');
      await this.#boot();
    });
  }

  running(): { slot: SlotName; version: string; headSha256: string } | null {
    return this.#run ? { slot: this.#run.slot, version: this.#run.firmware.version, headSha256: this.#run.headSha256 } : null;
  }

  trial(): { slot: SlotName; version: string } | null {
    return this.#run?.trial ? { slot: this.#run.slot, version: this.#run.firmware.version } : null;
  }

  info(): Record<string, unknown> {
    return {
      firmware: this.#run?.firmware ?? null,
      pipeline: {
        state: this.#state,
        since: this.#since,
        pid: this.#proc?.pid ?? null,
        stream: this.#pipelineState,
        lastExit: this.#lastExit,
        recentCrashes: this.#recentCrashes(),
        ...(this.#noImage ? { reason: this.#noImage } : {}),
      },
      monitor: this.o.services.monitorUrl,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#enqueue(() => this.#stop('shutdown'));
    this.o.launcher.close();
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(op, op).catch((e: Error) => this.o.log.error({ err: e }, 'box operation failed'));
    this.#queue = next;
    return next;
  }

  #setState(s: PipelineState): void {
    this.#state = s;
    this.#since = Date.now();
  }

  async #boot(): Promise<void> {
    if (this.#closed) return;
    const { storage, publicKey, hardwareId, policy, log } = this.o;
    const d = chooseBoot({ storage, publicKey, hardwareId, maxTrialBoots: policy.maxTrialBoots, point: this.#point });
    if (d.abandoned) log.error(d.abandoned, 'trial abandoned: reverting to the confirmed image');
    if (!d.slot || !d.image) return this.#noImageState(d.reason ?? 'no image');
    if (d.reason) log.warn({ slot: d.slot }, d.reason);
    this.#crashes = [];
    this.#restart.reset();
    this.#noImage = null;
    const img = d.image;
    const m = img.manifest;
    const runtime = chooseRuntime(m.runtimes);
    this.#run = {
      slot: d.slot,
      image: img,
      headSha256: createHash('sha256').update(img.signed).update(img.signature).digest('hex'),
      trial: d.trial !== null,
      runtime: runtime.build,
      firmware: { version: m.version, slot: d.slot, securityCounter: m.securityCounter, sha256: img.sha256, hardwareId: m.hardwareId, state: d.trial ? 'trial' : 'confirmed', runtime: runtime.build ?? 'none' },
    };
    log.info({ slot: d.slot, version: m.version, trial: d.trial?.attempt ?? null, runtime: runtime.build, sha256: img.sha256 }, d.trial ? `booting ${m.version} on trial (boot ${d.trial.attempt} of ${policy.maxTrialBoots})` : `booting ${m.version}`);
    if (runtime.build === null) return this.#cannotRun(runtime.reason);
    let config;
    let monitor: string;
    try {
      config = boxRunConfig(readImageConfig(section(img, 'config'), `slot ${d.slot} image`), this.o.settings, this.o.settingsFile);
      monitor = await extractMonitor(storage, d.slot, img);
    } catch (e) {
      return this.#cannotRun((e as Error).message);
    }
    this.o.services.setMonitorRoot(monitor);
    this.#launch(config);
  }

  #launch(config: RunConfig): void {
    const run = this.#run!;
    const { services, log, policy } = this.o;
    void services.publishStatus('updating', run.trial ? `starting firmware ${run.firmware.version} on trial` : `starting firmware ${run.firmware.version}`, run.firmware);
    this.#setState('starting');
    this.#pipelineState = null;
    const proc = this.o.launcher.launch(
      { type: 'start', image: this.o.storage.imagePath(run.slot), imageSha256: run.image.sha256, runtime: run.runtime!, config, broker: services.link, firmware: run.firmware, software: this.o.software, heartbeatMs: HEARTBEAT_MS },
      policy.watchdogMs,
    );
    this.#proc = proc;
    log.info({ pid: proc.pid, slot: run.slot, version: run.firmware.version, runtime: run.firmware.runtime }, 'pipeline start');
    // a trial may fail at once: have the spare for the revert loading already (else it is forked once this pipeline runs)
    if (run.trial) this.o.launcher.prepare();
    proc.on('heartbeat', (h) => (this.#pipelineState = h.state));
    proc.on('self-test', (t) => {
      this.#point('self-test');
      if (t.ok) log.info({ detail: t.detail }, 'pipeline self-test passed');
      else log.error({ detail: t.detail }, 'pipeline self-test failed');
    });
    proc.on('ready', (r) => {
      if (this.#proc !== proc) return;
      this.#setState('running');
      services.pipelineOwnsStatus();
      log.info({ model: r.model, version: run.firmware.version }, 'pipeline running');
      this.o.launcher.prepare();
      if (run.trial) this.#healthy = setTimeout(() => void this.#enqueue(async () => this.#confirm(proc)), policy.healthyForMs);
    });
    proc.on('exit', (e) => {
      if (this.#proc !== proc) return;
      this.#clearHealthy();
      this.#lastExit = e;
      this.#proc = null;
      if (e.requested) return;
      void this.#enqueue(() => this.#crashed(e));
    });
  }

  #confirm(proc: PipelineHandle): void {
    const run = this.#run;
    if (!run?.trial || this.#proc !== proc || this.#state !== 'running') return;
    confirmTrial(this.o.storage, run.slot, this.#point);
    run.trial = false;
    run.firmware = { ...run.firmware, state: 'confirmed' };
    proc.send({ type: 'firmware', firmware: run.firmware });
    this.o.log.info({ slot: run.slot, version: run.firmware.version, healthyForMs: this.o.policy.healthyForMs }, 'trial confirmed: passed the self-test and stayed healthy');
  }

  async #crashed(e: PipelineExit): Promise<void> {
    const run = this.#run;
    const { log, policy, services } = this.o;
    this.#setState('crashed');
    const crashes = this.#recentCrashes(e.at);
    log.error({ code: e.code, signal: e.signal, reason: e.reason, crashes, windowMs: policy.crashWindowMs }, 'pipeline crashed');
    if (!run || this.#closed) return;
    const selfTestFailed = e.reason.startsWith('self-test failed');
    if (run.trial && (selfTestFailed || crashes >= policy.crashLimit)) {
      return this.#revert(selfTestFailed ? e.reason : `crash loop: ${crashes} crashes within ${policy.crashWindowMs / 1000} s (last: ${e.reason})`);
    }
    const delay = this.#restart.nominalDelay();
    await services.publishStatus('updating', `pipeline ended (${e.reason}); restarting in ${(delay / 1000).toFixed(1)} s`, run.firmware);
    this.#restart.schedule(() => void this.#enqueue(async () => {
      if (this.#run !== run || this.#proc || this.#closed) return;
      log.info({ slot: run.slot, version: run.firmware.version }, 'restarting the pipeline');
      this.#launch(boxRunConfig(readImageConfig(section(run.image, 'config'), `slot ${run.slot} image`), this.o.settings, this.o.settingsFile));
    }));
  }

  /** The trial image failed: forget the trial and boot the confirmed image. */
  async #revert(reason: string): Promise<void> {
    const run = this.#run!;
    this.o.log.error({ slot: run.slot, version: run.firmware.version, reason }, 'trial failed: reverting to the confirmed image');
    await this.#stop('revert');
    rejectTrial(this.o.storage, run.slot, reason);
    await this.o.services.publishStatus('updating', `firmware ${run.firmware.version} failed its trial (${reason}); reverting`, null);
    await this.#boot();
  }

  /** The image cannot run on this box at all (no runtime build it supports, a configuration or bundle it refuses). */
  async #cannotRun(reason: string): Promise<void> {
    const run = this.#run!;
    this.#lastExit = { code: null, signal: null, reason, requested: false, at: Date.now() };
    if (run.trial) return this.#revert(reason);
    this.#run = null;
    return this.#noImageState(`the confirmed image ${run.firmware.version} cannot run here: ${reason}`);
  }

  async #noImageState(reason: string): Promise<void> {
    this.#run = null;
    this.#noImage = reason;
    this.#setState('no-image');
    this.o.services.setMonitorRoot(null);
    this.o.log.error({ reason }, 'no image to run: waiting for a flash');
    this.o.launcher.prepare();
    await this.o.services.publishStatus('no-image', reason, null);
  }

  async #stop(why: string): Promise<void> {
    this.#clearHealthy();
    this.#restart.cancel();
    const proc = this.#proc;
    if (!proc) return;
    this.#setState('stopping');
    // say so first: the page shows `updating` through the old pipeline's `stopped` (docs/mqtt.md)
    if (!this.#closed) await this.o.services.publishStatus('updating', `restarting (${why})`, this.#run?.firmware ?? null);
    const e = await proc.stop(this.o.policy.stopTimeoutMs);
    this.#lastExit = e;
    this.#proc = null;
    this.#setState('stopped');
    this.o.log.info({ why, reason: e.reason, code: e.code, signal: e.signal }, 'pipeline stop');
  }

  #clearHealthy(): void {
    if (this.#healthy) clearTimeout(this.#healthy);
    this.#healthy = null;
  }

  /** Crashes within the window, counting one at `at` if given. */
  #recentCrashes(at?: number): number {
    const now = at ?? Date.now();
    if (at !== undefined) this.#crashes.push(at);
    this.#crashes = this.#crashes.filter((t) => now - t <= this.o.policy.crashWindowMs);
    return this.#crashes.length;
  }
}
