// The device view: the newest frame of one device with its overlays, and a
// safety state that is impossible to miss. Frames are decoded on arrival but
// drawn only in requestAnimationFrame, newest first: a burst of messages costs
// one drawing, and `received - drawn` counts the frames never shown (the
// screen could not keep up, or the tab was hidden).
import { decodeFrameMessage, type FrameMessage } from '../../contracts/frame-message.js';
import { topicsFor, type Topics } from '../../contracts/topics.js';
import { wallNow } from '../../common/clock.js';
import type { BrokerLink } from './broker-link.js';
import { ClockOffset, RecentMedian } from './clock.js';
import { FrameRenderer, heatFor, sizeToDisplay, type ViewOptions } from './render.js';
import { SafetyMonitor, fnv1a, type SafetyView } from './safety.js';
import { BannerTiming } from './freshness.js';
import type { MonitorSettings } from './settings.js';
import type { Controls } from './controls.js';
import type { DeviceStats, DeviceStatus } from './device-status.js';
import { deviceWords } from './state-words.js';
import { GateChooser } from './gate-choice.js';
import { showLegend } from './legend.js';

/** Counters the tests and the benchmark read (window.aunetMonitor.counters). */
export interface MonitorCounters {
  received: number;
  drawn: number;
  decodeErrors: number;
  lastFrameId: number | null;
  drawnFrameId: number | null;
  latencyMs: number | null;
  offsetMs: number | null;
  /** time spent composing frames (ms): total and worst, over `drawn` frames */
  drawMsTotal: number;
  drawMsMax: number;
  /** frames that arrived less than 1/60 s after the previous one (at most one of such a pair can reach a 60 Hz screen) */
  closeArrivals: number;
  /** requestAnimationFrame callbacks run (the screen's refresh opportunities) */
  animationFrames: number;
  /** polygons in the contour of the frame drawn last */
  contours: number;
  /** page wall-clock ms when the newest frame arrived, and the recent arrivals (the last 300) */
  lastFrameAt: number | null;
  arrivalTimes: number[];
  /** the raw state (safety.ts) and the state on screen (freshness.ts) */
  state: SafetyView;
  shown: string;
  /** the stale threshold in force (ms) */
  staleMs: number;
  /** the state changes on screen, oldest first (page wall-clock ms); `rawAt`: when the raw state began */
  transitions: { state: string; at: number; rawAt: number }[];
  /** the gate gate-choice.ts picked for the running model, and the contrast per gate it saw */
  autoGate: number | null;
  gateContrast: (number | null)[];
}

export class DeviceView {
  readonly safety: SafetyMonitor;
  readonly banner: BannerTiming;
  readonly renderer = new FrameRenderer();
  readonly clock = new ClockOffset();
  readonly latency = new RecentMedian(30);
  readonly chooser = new GateChooser();
  device: string | null = null;
  topics: Topics | null = null;
  status: DeviceStatus | null = null;
  stats: DeviceStats | null = null;
  latest: FrameMessage | null = null;
  dirty = false;
  active = false;
  arrivals: number[] = [];
  counters: MonitorCounters;

  constructor(
    readonly settings: MonitorSettings,
    readonly link: BrokerLink,
    readonly ui: Controls,
    public view: ViewOptions,
    readonly onViewChange: (v: ViewOptions) => void,
  ) {
    const now = wallNow();
    this.safety = new SafetyMonitor(now, { staleMs: settings.staleMs, frozenMs: settings.frozenMs });
    this.banner = new BannerTiming(now);
    const state = this.safety.view(now);
    this.counters = { received: 0, drawn: 0, decodeErrors: 0, lastFrameId: null, drawnFrameId: null, latencyMs: null, offsetMs: null, drawMsTotal: 0, drawMsMax: 0, closeArrivals: 0, animationFrames: 0, contours: 0, lastFrameAt: null, arrivalTimes: [], state, shown: 'connecting', staleMs: this.safety.staleMs, transitions: [], autoGate: null, gateContrast: [null, null, null, null] };
  }

  /** Show `device` (null: leave the device view). Subscriptions follow. */
  show(device: string | null, status: DeviceStatus | null, stats: DeviceStats | null): void {
    this.active = device !== null;
    if (device === this.device) return;
    if (this.topics) this.link.unsubscribe([this.topics.frame, this.topics.cmdReply]);
    this.device = device;
    this.topics = device ? topicsFor(device) : null;
    this.latest = null;
    this.safety.resetFrames();
    this.status = null;
    this.stats = stats;
    if (this.topics) this.link.subscribe([this.topics.frame, this.topics.cmdReply]);
    if (status) this.onStatus(status);
    this.ui.showStatus(status, stats);
    this.tick();
  }

  setView(v: ViewOptions): void {
    this.view = v;
    if (v.autoGate && this.chooser.choice !== null) this.view = { ...v, gate: this.chooser.choice };
    this.ui.setView(this.view);
    showLegend(this.view, this.status?.threshold ?? null);
    this.dirty = true;
  }

  onStatus(st: DeviceStatus): void {
    this.status = st;
    this.safety.status(st.state, wallNow(), st.reason);
    this.safety.period.setNominalFps(st.source?.fps);
    this.chooser.setModel(`${st.model?.sha256 ?? '?'}:${st.model?.name ?? '?'}:${(st.gates ?? []).join(',')}`);
    this.ui.showStatus(st, this.stats);
    showLegend(this.view, st.threshold ?? null);
    this.tick();
  }

  onStats(s: DeviceStats): void {
    this.stats = s;
    this.ui.showStatus(this.status, s);
  }

  onFrame(payload: Uint8Array): void {
    const now = wallNow();
    let m: FrameMessage;
    try {
      m = decodeFrameMessage(payload);
    } catch (e) {
      this.counters.decodeErrors++;
      this.ui.warn(`frame message rejected: ${(e as Error).message}`);
      return;
    }
    const c = this.counters;
    c.received++;
    c.lastFrameId = m.frameId;
    if (c.lastFrameAt !== null && now - c.lastFrameAt < 1000 / 60) c.closeArrivals++;
    c.lastFrameAt = now;
    c.arrivalTimes.push(now);
    if (c.arrivalTimes.length > 300) c.arrivalTimes.shift();
    this.clock.observe(m.publishTime, now);
    this.safety.frame(fnv1a(m.frame), now);
    this.banner.frame();
    const before = this.chooser.choice;
    const chosen = this.chooser.observe(m);
    c.autoGate = chosen;
    c.gateContrast = this.chooser.contrast;
    if (this.view.autoGate && chosen !== before) this.onViewChange({ ...this.view, gate: chosen });
    this.latest = m;
    this.dirty = true;
    this.arrivals.push(now);
    this.tick();
  }

  /** Re-evaluate the state (timer, and on every event). */
  tick(): void {
    if (!this.active) return;
    const now = wallNow();
    const raw = this.safety.view(now);
    const c = this.counters;
    c.state = raw;
    c.staleMs = this.safety.staleMs;
    const shown = this.banner.update(raw.state, raw.since, now);
    if (shown !== c.shown) {
      c.shown = shown;
      c.transitions.push({ state: shown, at: now, rawAt: raw.since });
      if (c.transitions.length > 50) c.transitions.shift();
    }
    const words = deviceWords(this.status, this.stats);
    let reason = raw.state === shown ? raw.reason : shown === 'live' ? '' : `${raw.reason} (clearing)`;
    // what the device says about itself explains a STALE picture: paused, the video ended, the camera lost
    if (shown === 'stale' && words.details.length) reason += `: ${words.details.join('; ')}`;
    const frozen = shown === 'live' && raw.frozen;
    this.ui.showSafety(shown, reason, frozen, raw.reason);
  }

  fps(): number {
    const now = wallNow();
    while (this.arrivals.length && this.arrivals[0] < now - 1000) this.arrivals.shift();
    return this.arrivals.length;
  }

  draw(): void {
    const m = this.latest;
    if (!this.active || !m || !this.dirty) return;
    this.dirty = false;
    const t0 = performance.now();
    const v = this.view;
    const newFrame = this.counters.drawnFrameId !== m.frameId;
    if (v.gate === 0) {
      this.ui.strip.forEach((c, i) => {
        sizeToDisplay(c);
        const k = (i + 1) as 1 | 2 | 3 | 4;
        const heat = heatFor(m, 'attention', k);
        this.renderer.compose(c, m, heat, v, heat ? `gate ${k}` : `gate ${k}: not published`);
      });
      this.ui.viewNote('');
    } else {
      sizeToDisplay(this.ui.mainCanvas);
      const heat = heatFor(m, v.overlay, v.gate);
      this.renderer.compose(this.ui.mainCanvas, m, heat, v);
      this.ui.viewNote(v.overlay === 'attention' && !heat ? `gate ${v.gate} is not in the published frames (device setting "gates")` : '');
    }
    sizeToDisplay(this.ui.probCanvas);
    this.renderer.compose(this.ui.probCanvas, m, { data: m.prob, width: m.width, height: m.height }, { ...v, opacity: 1 });
    if (newFrame) {
      const c = this.counters;
      const ms = performance.now() - t0;
      c.drawMsTotal += ms;
      c.drawMsMax = Math.max(c.drawMsMax, ms);
      c.drawn++;
      c.drawnFrameId = m.frameId;
      c.contours = m.contours.length;
      const lat = this.clock.latency(m.captureTime, wallNow());
      if (lat) {
        this.latency.push(lat.latencyMs);
        c.latencyMs = this.latency.value;
        c.offsetMs = lat.offsetMs;
      }
      this.ui.showFrame(m, c);
    }
  }
}
