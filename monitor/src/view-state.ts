// What the operator chose to look at, the keyboard shortcuts that change it,
// and its memory in this browser (localStorage): an operator who picked gate 2
// and the viridis map finds them again after a reload. Until an operator picks
// a gate, the page shows the gate gate-choice.ts picks for the running model.
// Pure apart from the Storage passed in (tests use a Map-backed one).
import type { ColormapName } from '../../common/colormap.js';
import type { GateChoice, OverlayMode, ViewOptions } from './render.js';

export const OVERLAYS: OverlayMode[] = ['attention', 'prob', 'none'];
export const COLORMAPS: ColormapName[] = ['inferno', 'viridis', 'jet', 'grey'];

/** Gate 3 until the first frame lets gate-choice.ts pick (autoGate). */
export const DEFAULT_VIEW: ViewOptions = { gate: 3, autoGate: true, overlay: 'attention', contour: true, opacity: 0.5, colormap: 'inferno' };

const STORAGE_KEY = 'aunet-monitor.view';

/** The view after pressing `key`, or null when the key means nothing. The keys are listed on screen (index.html footer). */
export function applyKey(v: ViewOptions, key: string): ViewOptions | null {
  // choosing a gate means: show its attention, and keep that gate (no automatic choice)
  if (/^[0-4]$/.test(key)) return { ...v, gate: Number(key) as GateChoice, autoGate: false, overlay: 'attention' };
  switch (key) {
    case 'g':
      return { ...v, autoGate: true, overlay: 'attention' };
    case 'o':
      return { ...v, overlay: OVERLAYS[(OVERLAYS.indexOf(v.overlay) + 1) % OVERLAYS.length] };
    case 'a':
      return { ...v, overlay: 'attention' };
    case 'p':
      return { ...v, overlay: 'prob' };
    case 'c':
      return { ...v, contour: !v.contour };
    case 'm':
      return { ...v, colormap: COLORMAPS[(COLORMAPS.indexOf(v.colormap) + 1) % COLORMAPS.length] };
    case '[':
      return { ...v, opacity: Math.max(0, Math.round((v.opacity - 0.1) * 10) / 10) };
    case ']':
      return { ...v, opacity: Math.min(1, Math.round((v.opacity + 0.1) * 10) / 10) };
    default:
      return null;
  }
}

/** The view remembered in this browser, each field checked (a damaged or older entry falls back field by field). */
export function loadView(storage: Pick<Storage, 'getItem'> | null): ViewOptions {
  let saved: Record<string, unknown> = {};
  try {
    const raw = storage?.getItem(STORAGE_KEY);
    const v: unknown = raw ? JSON.parse(raw) : null;
    if (v && typeof v === 'object') saved = v as Record<string, unknown>;
  } catch {
    // unreadable: the defaults
  }
  const d = DEFAULT_VIEW;
  const pick = <T>(key: string, ok: (x: unknown) => boolean, def: T): T => (ok(saved[key]) ? (saved[key] as T) : def);
  return {
    gate: pick('gate', (x) => x === 0 || x === 1 || x === 2 || x === 3 || x === 4, d.gate),
    autoGate: pick('autoGate', (x) => typeof x === 'boolean', d.autoGate),
    overlay: pick('overlay', (x) => OVERLAYS.includes(x as OverlayMode), d.overlay),
    contour: pick('contour', (x) => typeof x === 'boolean', d.contour),
    opacity: pick('opacity', (x) => typeof x === 'number' && x >= 0 && x <= 1, d.opacity),
    colormap: pick('colormap', (x) => COLORMAPS.includes(x as ColormapName), d.colormap),
  };
}

export function saveView(storage: Pick<Storage, 'setItem'> | null, v: ViewOptions): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(v));
  } catch {
    // storage full or disabled (private window): the choice lasts until the page closes
  }
}
