import { compile } from './host/controller/compiler.ts';
import { resolveChipConfig } from './host/controller/chip-config.ts';
for (const s of [4096, 8192, 16384, 32768]) {
const p = compile({ filters: 4, height: 64, width: 64, channels: 1 }, resolveChipConfig('nv_small', s));
console.log(s, p.layers.filter(l => l.tiling.tiles > 1).map(l => `${l.op.name}:${l.tiling.rows}x${l.tiling.cols}x${l.tiling.group}${l.tiling.doubleBuffered?'db':''}`).join(' '));
}
