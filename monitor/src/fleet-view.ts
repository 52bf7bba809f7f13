// The fleet view: one tile per device seen on aunet/+/status, in a stable
// order, each with its state in words (and as data-device / data-state
// attributes), fps, latency, firmware, software and model version and a live
// thumbnail from its thumb topic. A tile is a link to the device's full view.
// Work per screen refresh is bounded: text is refreshed twice a second, and a
// thumbnail is drawn once per received thumbnail, in requestAnimationFrame.
import { wallNow } from '../../common/clock.js';
import { FleetState, TILE_LABEL, ago, fleetSummary, tileView, type DeviceRecord } from './fleet-state.js';
import { modelWords } from './device-status.js';
import { $ } from './controls.js';

/** What the fleet benchmark and tests read (window.aunetMonitor.fleet). */
export interface FleetCounters {
  tiles: number;
  thumbsDrawn: number;
  badThumbs: number;
  /** time spent in the fleet view's work per animation frame (ms): total, worst, and frames that had work */
  workMsTotal: number;
  workMsMax: number;
  workFrames: number;
}

interface Tile {
  root: HTMLAnchorElement;
  canvas: HTMLCanvasElement;
  state: HTMLElement;
  words: HTMLElement;
  fps: HTMLElement;
  latency: HTMLElement;
  versions: HTMLElement;
  seen: HTMLElement;
  thumbFrame: number | null;
}

/** the outline's green (render.ts CONTOUR_COLOUR) */
const LESION: [number, number, number] = [0x39, 0xff, 0x14];

export class FleetView {
  readonly tiles = new Map<string, Tile>();
  readonly #thumbsDue = new Set<string>();
  active = false;
  counters: FleetCounters = { tiles: 0, thumbsDrawn: 0, badThumbs: 0, workMsTotal: 0, workMsMax: 0, workFrames: 0 };
  #textDue = true;

  constructor(readonly fleet: FleetState) {}

  /** A record changed (status, stats or thumbnail). */
  changed(r: DeviceRecord, kind: string): void {
    if (kind === 'thumb') this.#thumbsDue.add(r.id);
    else this.#textDue = true;
    if (!this.tiles.has(r.id)) this.#textDue = true;
  }

  /** Twice a second: ages ("last seen 12 s ago") and silent boxes change with time alone. */
  refreshText(): void {
    this.#textDue = true;
  }

  /** One animation frame's work. */
  draw(): void {
    if (!this.active || (!this.#textDue && !this.#thumbsDue.size)) return;
    const t0 = performance.now();
    if (this.#textDue) {
      this.#textDue = false;
      this.#updateText(wallNow());
    }
    for (const id of this.#thumbsDue) {
      const r = this.fleet.devices.get(id);
      const t = this.tiles.get(id);
      if (r?.thumb && t && t.thumbFrame !== r.thumb.frameId) this.#drawThumb(t, r);
      this.counters.badThumbs = Math.max(this.counters.badThumbs, r?.badThumbs ?? 0);
    }
    this.#thumbsDue.clear();
    const ms = performance.now() - t0;
    this.counters.workMsTotal += ms;
    this.counters.workMsMax = Math.max(this.counters.workMsMax, ms);
    this.counters.workFrames++;
  }

  #updateText(now: number): void {
    const list = $('tiles');
    const ids = this.fleet.ids();
    const views = [];
    let order = false;
    for (const id of ids) {
      let t = this.tiles.get(id);
      if (!t) {
        t = makeTile(id);
        this.tiles.set(id, t);
        order = true;
        this.#thumbsDue.add(id);
      }
      const r = this.fleet.devices.get(id)!;
      const v = tileView(r, now);
      views.push(v);
      if (t.root.dataset.state !== v.state) t.root.dataset.state = v.state;
      setText(t.state, TILE_LABEL[v.state].toUpperCase());
      setText(t.words, v.words);
      const fps = r.stats?.fps?.out;
      const lat = r.stats?.latencyMs?.endToEnd?.p50;
      const up = v.state !== 'offline' && v.state !== 'stopped' && v.state !== 'stale';
      setText(t.fps, up && typeof fps === 'number' ? `${fps.toFixed(fps < 10 ? 1 : 0)} fps` : '– fps');
      setText(t.latency, up && typeof lat === 'number' ? `${Math.round(lat)} ms on the box` : '– ms');
      const st = r.status;
      const fw = st?.firmware?.version;
      setText(t.versions, `firmware ${fw ?? '–'} · software ${st?.software?.version ?? '–'} · model ${modelWords(st) ?? '–'}`);
      const seen = r.lastSeen === null ? 'before this page was opened' : `${new Date(r.lastSeen).toLocaleTimeString('en-GB')} (${ago(now - r.lastSeen)} ago)`;
      setText(t.seen, up ? '' : `last seen ${seen}`);
    }
    if (order) list.replaceChildren(...ids.map((id) => this.tiles.get(id)!.root.parentElement!));
    this.counters.tiles = ids.length;
    const summary = fleetSummary(views);
    setText($('fleet-summary'), summary);
    if (this.active) {
      const bad = views.filter((v) => v.state === 'offline' || v.state === 'stale').length;
      document.title = `${bad ? `[${bad} OFFLINE] ` : ''}aunet fleet: ${summary}`;
    }
  }

  #drawThumb(t: Tile, r: DeviceRecord): void {
    const th = r.thumb!;
    t.thumbFrame = th.frameId;
    const c = t.canvas;
    if (c.width !== th.width || c.height !== th.height) {
      c.width = th.width;
      c.height = th.height;
    }
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(th.width, th.height);
    const d = img.data;
    for (let p = 0, q = 0; p < th.grey.length; p++, q += 4) {
      const g = th.grey[p];
      if (th.mask[p]) {
        // the lesion tinted in the outline's green, half over the picture
        d[q] = (g + LESION[0]) >> 1;
        d[q + 1] = (g + LESION[1]) >> 1;
        d[q + 2] = (g + LESION[2]) >> 1;
      } else {
        d[q] = d[q + 1] = d[q + 2] = g;
      }
      d[q + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    this.counters.thumbsDrawn++;
  }
}

function setText(e: HTMLElement, s: string): void {
  if (e.textContent !== s) e.textContent = s;
}

function makeTile(id: string): Tile {
  const li = document.createElement('li');
  const root = document.createElement('a');
  root.className = 'tile';
  root.href = `#/device/${encodeURIComponent(id)}`;
  root.dataset.device = id;
  const el = (tag: string, cls: string, parent: HTMLElement = root) => {
    const e = document.createElement(tag);
    e.className = cls;
    parent.append(e);
    return e;
  };
  const head = el('div', 'tile-head');
  el('span', 'tile-name', head).textContent = id;
  const state = el('span', 'tile-state badge', head);
  const canvas = el('canvas', 'tile-thumb') as HTMLCanvasElement;
  canvas.setAttribute('aria-hidden', 'true');
  canvas.width = 64;
  canvas.height = 64;
  const words = el('div', 'tile-words');
  const figures = el('div', 'tile-figures');
  const fps = el('span', 'tile-fps', figures);
  const latency = el('span', 'tile-latency', figures);
  const versions = el('div', 'tile-versions');
  const seen = el('div', 'tile-seen');
  li.append(root);
  return { root, canvas, state, words, fps, latency, versions, seen, thumbFrame: null };
}
