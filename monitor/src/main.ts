// The monitor page: one broker connection, two views. The fleet view (a tile
// per device on aunet/+/status) and the device view (one device's live
// picture). The address says which: #/fleet or #/device/ID; without one, the
// device config.json or ?device= names, else the fleet. Status and stats of
// every device are always subscribed (small, ~1 Hz); thumbnails only while
// the fleet view is open, frames only of the device shown.
import { FLEET_TOPICS, parseTopic, DEVICE_ID } from '../../contracts/topics.js';
import { wallNow } from '../../common/clock.js';
import { BrokerLink } from './broker-link.js';
import { loadSettings, type MonitorSettings } from './settings.js';
import { Controls } from './controls.js';
import { loadView, saveView, applyKey } from './view-state.js';
import { DeviceView, type MonitorCounters } from './device-view.js';
import { FleetView, type FleetCounters } from './fleet-view.js';
import { FleetState } from './fleet-state.js';
import type { ViewOptions } from './render.js';

export type { MonitorCounters, FleetCounters };

type Route = { view: 'fleet' } | { view: 'device'; device: string };

class Monitor {
  readonly link: BrokerLink;
  readonly ui: Controls;
  readonly fleet = new FleetState();
  readonly fleetView: FleetView;
  readonly deviceView: DeviceView;
  route: Route = { view: 'fleet' };

  constructor(readonly settings: MonitorSettings) {
    const storage = safeStorage();
    this.ui = new Controls({
      view: () => this.deviceView.view,
      setView: (v) => this.setView(v, true),
      signIn: (c) => this.link.connect(c),
      signOut: () => this.link.connect(null),
      command: (body) => this.command(body),
    });
    this.link = new BrokerLink(settings.brokerUrl, {
      connected: (signedIn) => {
        this.deviceView.safety.connected(wallNow());
        this.ui.setSignedIn(signedIn ? this.link.username : null);
        this.deviceView.tick();
      },
      disconnected: () => {
        this.deviceView.safety.disconnected(wallNow());
        this.ui.setSignedIn(null);
        this.deviceView.tick();
      },
      authFailed: (msg) => this.ui.signInFailed(msg),
      message: (topic, payload) => this.onMessage(topic, payload),
    });
    this.fleetView = new FleetView(this.fleet);
    this.deviceView = new DeviceView(settings, this.link, this.ui, loadView(storage), (v) => this.setView(v, false));
    for (const w of settings.warnings) this.ui.warn(w);
    this.ui.showBroker(settings.brokerUrl);
    if (settings.operators === false) this.ui.noOperators();
  }

  start(): void {
    this.link.subscribe([FLEET_TOPICS.status, FLEET_TOPICS.stats]);
    this.link.connect(null);
    this.setView(this.deviceView.view, false);
    window.addEventListener('hashchange', () => this.navigate());
    this.navigate();
    setInterval(() => this.deviceView.tick(), 50);
    setInterval(() => this.fleetView.refreshText(), 500);
    setInterval(() => this.ui.showCounts(this.deviceView.counters, this.deviceView.fps()), 1000);
    window.addEventListener('resize', () => (this.deviceView.dirty = true));
    window.addEventListener('keydown', (e) => {
      if (this.route.view !== 'device' || e.ctrlKey || e.metaKey || e.altKey || (e.target as HTMLElement).closest('input, select, textarea, dialog')) return;
      const v = applyKey(this.deviceView.view, e.key);
      if (v) {
        e.preventDefault();
        this.setView(v, true);
      }
    });
    const frame = () => {
      this.deviceView.counters.animationFrames++;
      this.deviceView.draw();
      this.fleetView.draw();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  /** The route from the address: #/fleet, #/device/ID, or the default. */
  navigate(): void {
    const h = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
    const m = /^device\/(.+)$/.exec(h);
    let route: Route;
    if (m && DEVICE_ID.test(m[1])) route = { view: 'device', device: m[1] };
    else if (h === 'fleet') route = { view: 'fleet' };
    else route = this.settings.device ? { view: 'device', device: this.settings.device } : { view: 'fleet' };
    this.route = route;
    const device = route.view === 'device' ? route.device : null;
    document.body.dataset.view = route.view;
    document.getElementById('device-page')!.hidden = route.view !== 'device';
    document.getElementById('fleet-page')!.hidden = route.view !== 'fleet';
    if (route.view === 'fleet') this.link.subscribe([FLEET_TOPICS.thumb]);
    else this.link.unsubscribe([FLEET_TOPICS.thumb]);
    this.fleetView.active = route.view === 'fleet';
    this.fleetView.refreshText();
    const r = device ? this.fleet.devices.get(device) : undefined;
    this.deviceView.show(device, r?.status ?? null, r?.stats ?? null);
    this.ui.setDevice(device, this.fleet.devices.size);
    if (route.view === 'fleet') document.body.dataset.state = 'fleet';
  }

  /** `byOperator`: remembered in this browser (an automatic gate choice is not an operator's). */
  setView(v: ViewOptions, byOperator: boolean): void {
    this.deviceView.setView(v);
    if (byOperator) saveView(safeStorage(), this.deviceView.view);
  }

  onMessage(topic: string, payload: Uint8Array): void {
    const t = parseTopic(topic);
    if (!t) return;
    const known = this.fleet.devices.size;
    const r = this.fleet.message(t.device, t.kind, payload, wallNow());
    if (r) this.fleetView.changed(r, t.kind);
    if (this.fleet.devices.size !== known) this.ui.setDevice(this.deviceView.device, this.fleet.devices.size);
    if (t.device !== this.deviceView.device) return;
    if (t.kind === 'status' && r?.status) this.deviceView.onStatus(r.status);
    else if (t.kind === 'stats' && r?.stats) this.deviceView.onStats(r.stats);
    else if (t.kind === 'frame') this.deviceView.onFrame(payload);
    else if (t.kind === 'cmd/reply') this.ui.commandReplyPayload(payload);
  }

  command(body: Record<string, unknown>): void {
    const topics = this.deviceView.topics;
    if (!topics) throw new Error('no device selected');
    this.link.sendCommand(topics.cmd, body);
  }
}

/** localStorage, or null where the browser refuses it (some private modes throw on access). */
function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

const settings = await loadSettings();
const monitor = new Monitor(settings);
(window as unknown as { aunetMonitor: unknown }).aunetMonitor = {
  get counters(): MonitorCounters {
    const c = monitor.deviceView.counters;
    return { ...c, transitions: [...c.transitions], arrivalTimes: [...c.arrivalTimes], gateContrast: [...c.gateContrast] };
  },
  get fleet(): FleetCounters {
    return { ...monitor.fleetView.counters };
  },
  get view(): ViewOptions {
    return { ...monitor.deviceView.view };
  },
  settings,
};
monitor.start();
