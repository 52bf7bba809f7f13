// The monitor page: connects to the broker, shows the newest frame of one device
// with its overlays, and makes the safety state impossible to miss.
// Frames are decoded on arrival but drawn only in requestAnimationFrame, newest
// first: a burst of messages costs one drawing, and `received - drawn` counts
// the frames that were never shown (the screen could not keep up, or the tab was hidden).
import { decodeFrameMessage, type FrameMessage } from '../../contracts/frame-message.js';
import { topicsFor, type Topics } from '../../contracts/topics.js';
import { wallNow } from '../../common/clock.js';
import { BrokerLink } from './broker-link.js';
import { ClockOffset, RecentMedian } from './clock.js';
import { FrameRenderer, heatFor, sizeToDisplay, type ViewOptions } from './render.js';
import { SafetyMonitor, fnv1a, type SafetyView } from './safety.js';
import { loadSettings, type MonitorSettings } from './settings.js';
import { Controls, type DeviceStatus } from './controls.js';
import { DEFAULT_VIEW, applyKey } from './view-state.js';

/** Browser wall clock with sub-ms resolution (same clock as the device's epoch ms, up to their offset). */

/** Counters the tests and the benchmark read (window.aunetMonitor). */
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
  /** page wall-clock ms when the newest frame arrived */
  lastFrameAt: number | null;
  state: SafetyView;
  /** the most recent state changes, oldest first (page wall-clock ms) */
  transitions: { state: string; at: number }[];
}

class Monitor {
  readonly settings: MonitorSettings;
  readonly safety: SafetyMonitor;
  readonly link: BrokerLink;
  readonly renderer = new FrameRenderer();
  readonly clock = new ClockOffset();
  readonly latency = new RecentMedian(30);
  readonly ui: Controls;
  view: ViewOptions = { ...DEFAULT_VIEW };
  device: string | null;
  topics: Topics | null = null;
  statuses = new Map<string, DeviceStatus>();
  latest: FrameMessage | null = null;
  latestAt = 0;
  dirty = false;
  arrivals: number[] = [];
  counters: MonitorCounters;

  constructor(settings: MonitorSettings) {
    this.settings = settings;
    this.device = settings.device;
    this.safety = new SafetyMonitor(wallNow(), { staleMs: settings.staleMs, frozenMs: settings.frozenMs });
    this.counters = { received: 0, drawn: 0, decodeErrors: 0, lastFrameId: null, drawnFrameId: null, latencyMs: null, offsetMs: null, drawMsTotal: 0, drawMsMax: 0, closeArrivals: 0, animationFrames: 0, contours: 0, lastFrameAt: null, state: this.safety.view(wallNow()), transitions: [] };
    this.ui = new Controls({
      view: () => this.view,
      setView: (v) => this.setView(v),
      selectDevice: (d) => this.selectDevice(d),
      signIn: (c) => this.link.connect(c),
      signOut: () => this.link.connect(null),
      command: (body) => this.command(body),
    });
    this.link = new BrokerLink(settings.brokerUrl, {
      connected: (signedIn) => {
        this.safety.connected(wallNow());
        this.ui.setSignedIn(signedIn ? this.link.username : null);
        this.tick();
      },
      disconnected: () => {
        this.safety.disconnected(wallNow());
        this.ui.setSignedIn(null);
        this.tick();
      },
      authFailed: (msg) => this.ui.signInFailed(msg),
      message: (topic, payload) => this.onMessage(topic, payload),
    });
    for (const w of settings.warnings) this.ui.warn(w);
  }

  start(): void {
    this.link.subscribe(['aunet/+/status']);
    if (this.device) this.selectDevice(this.device);
    this.link.connect(null);
    this.ui.setView(this.view);
    setInterval(() => this.tick(), 100);
    // fps readout and the stats line once a second
    setInterval(() => this.ui.showCounts(this.counters, this.fps()), 1000);
    window.addEventListener('resize', () => (this.dirty = true));
    window.addEventListener('keydown', (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || (e.target as HTMLElement).closest('input, select, textarea, dialog')) return;
      const v = applyKey(this.view, e.key);
      if (v) {
        e.preventDefault();
        this.setView(v);
      }
    });
    const frame = () => {
      this.counters.animationFrames++;
      this.draw();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  setView(v: ViewOptions): void {
    this.view = v;
    this.ui.setView(v);
    this.dirty = true;
  }

  selectDevice(device: string): void {
    if (this.topics) this.link.unsubscribe([this.topics.frame, this.topics.stats, this.topics.cmdReply]);
    this.device = device;
    this.topics = topicsFor(device);
    this.latest = null;
    this.safety.resetFrames();
    const st = this.statuses.get(device);
    if (st) this.safety.status(st.state, wallNow());
    this.link.subscribe([this.topics.frame, this.topics.stats, this.topics.cmdReply]);
    this.ui.setDevices([...this.statuses.keys()], device);
    this.ui.showStatus(st ?? null);
    this.tick();
  }

  onMessage(topic: string, payload: Uint8Array): void {
    const now = wallNow();
    const parts = topic.split('/');
    if (parts.length === 3 && parts[2] === 'status') {
      const st = parseJson(payload) as DeviceStatus | null;
      if (!st || typeof st.state !== 'string') return;
      this.statuses.set(parts[1], st);
      if (!this.device) this.selectDevice(parts[1]);
      this.ui.setDevices([...this.statuses.keys()], this.device);
      if (parts[1] === this.device) {
        this.safety.status(st.state, now);
        this.ui.showStatus(st);
        this.tick();
      }
      return;
    }
    if (!this.topics) return;
    if (topic === this.topics.frame) {
      let m: FrameMessage;
      try {
        m = decodeFrameMessage(payload);
      } catch (e) {
        this.counters.decodeErrors++;
        this.ui.warn(`frame message rejected: ${(e as Error).message}`);
        return;
      }
      this.counters.received++;
      this.counters.lastFrameId = m.frameId;
      if (this.counters.lastFrameAt !== null && now - this.counters.lastFrameAt < 1000 / 60) this.counters.closeArrivals++;
      this.counters.lastFrameAt = now;
      this.clock.observe(m.publishTime, now);
      this.safety.frame(fnv1a(m.frame), now);
      this.latest = m;
      this.latestAt = now;
      this.dirty = true;
      this.arrivals.push(now);
      this.tick();
    } else if (topic === this.topics.stats) {
      const s = parseJson(payload);
      if (s) this.ui.showStats(s as Record<string, unknown>);
    } else if (topic === this.topics.cmdReply) {
      const r = parseJson(payload);
      if (r) this.ui.commandReply(r as { id?: string | null; ok?: boolean; error?: string; cmd?: string });
    }
  }

  command(body: Record<string, unknown>): void {
    if (!this.topics) throw new Error('no device selected');
    this.link.sendCommand(this.topics.cmd, body);
  }

  /** Re-evaluate the safety state (timer, and on every event). */
  tick(): void {
    const now = wallNow();
    const v = this.safety.view(now);
    const st = this.device ? this.statuses.get(this.device) : undefined;
    if (v.state === 'stale' && st?.paused) v.reason += ' (paused by an operator)';
    else if (v.state === 'stale' && st?.reasons?.length) v.reason += ` (device: ${st.reasons.join(', ')})`;
    if (v.state !== this.counters.state.state || this.counters.transitions.length === 0) {
      this.counters.transitions.push({ state: v.state, at: now });
      if (this.counters.transitions.length > 50) this.counters.transitions.shift();
    }
    this.counters.state = v;
    this.ui.showSafety(v);
  }

  fps(): number {
    const now = wallNow();
    while (this.arrivals.length && this.arrivals[0] < now - 1000) this.arrivals.shift();
    return this.arrivals.length;
  }

  draw(): void {
    const m = this.latest;
    if (!m || !this.dirty) return;
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
      const ms = performance.now() - t0;
      this.counters.drawMsTotal += ms;
      this.counters.drawMsMax = Math.max(this.counters.drawMsMax, ms);
      this.counters.drawn++;
      this.counters.drawnFrameId = m.frameId;
      this.counters.contours = m.contours.length;
      const lat = this.clock.latency(m.captureTime, wallNow());
      if (lat) {
        this.latency.push(lat.latencyMs);
        this.counters.latencyMs = this.latency.value;
        this.counters.offsetMs = lat.offsetMs;
      }
      this.ui.showFrame(m, this.counters);
    }
  }
}

function parseJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return null;
  }
}

const settings = await loadSettings();
const monitor = new Monitor(settings);
(window as unknown as { aunetMonitor: unknown }).aunetMonitor = {
  get counters(): MonitorCounters {
    return { ...monitor.counters, transitions: [...monitor.counters.transitions] };
  },
  settings,
};
monitor.start();
