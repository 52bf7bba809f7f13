// The legend under the picture: which heatmap is shown, what its colours mean
// (a colour bar of the current map from 0 to 1, with words at both ends), and
// what the green line is. Redrawn only when the view or the threshold changes.
import { colormapTable, type ColormapName } from '../../common/colormap.js';
import { CONTOUR_COLOUR, type ViewOptions } from './render.js';
import { $ } from './controls.js';

let drawnMap: ColormapName | null = null;

function drawBar(map: ColormapName): void {
  if (drawnMap === map) return;
  drawnMap = map;
  const bar = $<HTMLCanvasElement>('legend-bar');
  const ctx = bar.getContext('2d')!;
  const img = ctx.createImageData(256, 1);
  const t = colormapTable(map);
  for (let v = 0; v < 256; v++) img.data.set([t[v * 3], t[v * 3 + 1], t[v * 3 + 2], 255], v * 4);
  ctx.putImageData(img, 0, 0);
}

/** `threshold`: the device's mask threshold (probability), when known. */
export function showLegend(v: ViewOptions, threshold: number | null): void {
  const title = $('legend-title');
  const scale = document.querySelector<HTMLElement>('#legend .legend-scale')!;
  scale.hidden = v.overlay === 'none' || v.opacity === 0;
  if (v.overlay === 'prob') {
    title.textContent = 'Lesion probability:';
    $('legend-low').textContent = '0 none';
    $('legend-high').textContent = '1 certain';
  } else if (v.overlay === 'attention') {
    title.textContent =
      v.gate === 0
        ? 'Where the model looks, gates 1 (coarse) to 4 (fine):'
        : `Where the model looks, attention gate ${v.gate}${v.autoGate ? ' (chosen for this model: the finest gate with contrast)' : ''}:`;
    $('legend-low').textContent = '0 ignored';
    $('legend-high').textContent = '1 looked at';
  } else {
    title.textContent = 'No heatmap (overlay: none).';
  }
  drawBar(v.colormap);
  $('legend-outline').hidden = !v.contour;
  $('legend-outline-text').textContent = `green line: lesion outline (probability above ${threshold === null ? 'the threshold' : threshold.toFixed(2)})`;
  document.querySelector<HTMLElement>('#legend-outline .swatch')!.style.background = CONTOUR_COLOUR;
}
