// What the operator chose to look at, and the keyboard shortcuts that change it.
// Pure (no DOM) so the key map is tested without a browser.
import type { ColormapName } from '../../common/colormap.js';
import type { GateChoice, OverlayMode, ViewOptions } from './render.js';

export const OVERLAYS: OverlayMode[] = ['attention', 'prob', 'none'];
export const COLORMAPS: ColormapName[] = ['inferno', 'viridis', 'jet', 'grey'];

export const DEFAULT_VIEW: ViewOptions = { gate: 4, overlay: 'attention', contour: true, opacity: 0.5, colormap: 'inferno' };

/** The view after pressing `key`, or null when the key means nothing. The keys are listed on screen (index.html footer). */
export function applyKey(v: ViewOptions, key: string): ViewOptions | null {
  if (/^[0-4]$/.test(key)) return { ...v, gate: Number(key) as GateChoice, overlay: 'attention' }; // choosing a gate means: show its attention
  switch (key) {
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
