// aunet inspect FILE: what a .aunet model holds (header, provenance, every
// layer with its parameters, MACs and quantization, the file hash), or, for a
// firmware image (.aufw), the firmware inspector's description.
import type { Command } from 'commander';
import { openSync, readSync, closeSync } from 'node:fs';
import { readModelWithInfo, type ModelFileInfo } from '../../models/format.js';
import { buildGraph, graphMacs, opMacs, type Graph } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import { FileError } from '../../common/errors.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('describe a .aunet model or a .aufw firmware image')
    .argument('<file>', '.aunet model or .aufw firmware image')
    .option('--json', 'print the description as one JSON object (models only)')
    .action(async (file: string, o: { json?: boolean }) => {
      if (isFirmware(file)) {
        const { inspectFirmware } = await import('../../firmware/inspect.js');
        const d = await inspectFirmware(file);
        process.stdout.write(`${d.text}\n`);
        if (d.problems.length) throw new FileError(file, `damaged image: ${d.problems.join('; ')}`, 'BAD_FILE');
        return;
      }
      const { model, info } = readModelWithInfo(file);
      const d = describeModel(model);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ file, ...info, ...d.summary, meta: model.meta ?? {}, layers: d.layers }, null, 2)}\n`);
        return;
      }
      process.stdout.write(renderText(file, model, info, d));
    });
}

function isFirmware(file: string): boolean {
  if (/\.aufw$/i.test(file)) return true;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.toString('latin1') === 'AUFW';
  } catch (e) {
    throw new FileError(file, `cannot read: ${(e as Error).message}`, 'NO_FILE');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface LayerRow {
  name: string;
  kind: string;
  block: string;
  unit: string;
  output: string;
  shape: [number, number, number];
  params: number;
  macs: number;
  scale: number;
  zeroPoint: number;
}

export function describeModel(model: QModel): { graph: Graph; layers: LayerRow[]; summary: { arch: QModel['arch']; preprocessing: QModel['preprocessing']; ops: number; parameters: number; weightBytes: number; macs: number } } {
  const graph = buildGraph(model.arch);
  let parameters = 0;
  let weightBytes = 0;
  const layers = graph.ops.map((op): LayerRow => {
    const p = model.ops[op.name];
    let params = 0;
    if (p && (p.kind === 'conv' || p.kind === 'affine')) {
      params = p.weights.length + p.bias.length;
      weightBytes += p.weights.length + 4 * (p.bias.length + p.multiplier.length + p.shift.length) + 4 * p.weightScales.length;
    } else if (p?.kind === 'sigmoid') weightBytes += 256;
    parameters += params;
    const t = graph.tensors.get(op.output)!;
    const q = model.tensors[op.output];
    return { name: op.name, kind: op.kind, block: op.block, unit: op.unit, output: op.output, shape: [t.h, t.w, t.c], params, macs: opMacs(op, graph.tensors), scale: q.scale, zeroPoint: q.zeroPoint };
  });
  return { graph, layers, summary: { arch: model.arch, preprocessing: model.preprocessing, ops: graph.ops.length, parameters, weightBytes, macs: graphMacs(graph) } };
}

function renderText(file: string, model: QModel, info: ModelFileInfo, d: ReturnType<typeof describeModel>): string {
  const { arch, preprocessing: pre } = model;
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`${k.padEnd(14)} ${v}`);
  kv('file', `${file} (${info.fileBytes} bytes: header ${info.headerBytes}, tensors ${info.sectionBytes}; format version ${info.version})`);
  kv('sha256', `${info.sha256} (file; integrity digest inside: ${info.digest.slice(0, 16)}…)`);
  kv('architecture', `Attention U-Net, F=${arch.filters}, input ${arch.height}x${arch.width}x${arch.channels}`);
  kv('preprocessing', `resize ${pre.resize}, input = pixel/255${pre.clahe ? `, CLAHE clip ${pre.clahe.clipLimit} tiles ${pre.clahe.tiles}x${pre.clahe.tiles}` : ', no CLAHE'}`);
  const meta = (model.meta ?? {}) as Record<string, any>;
  const prov = meta.provenance as Record<string, any> | undefined;
  if (prov) {
    if (prov.source) kv('source', [prov.source.file, prov.source.format && `(${prov.source.format})`, prov.source.sha256 && `sha256 ${prov.source.sha256}`].filter(Boolean).join(' '));
    if (prov.calibration) kv('calibration', Object.entries(prov.calibration).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', '));
    if (prov.tool) kv('tool', typeof prov.tool === 'object' ? `${prov.tool.name ?? ''} ${prov.tool.version ?? ''}`.trim() : String(prov.tool));
    if (prov.date) kv('date', String(prov.date));
  }
  if (meta.metrics) kv('metrics', Object.entries(meta.metrics).map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toFixed(4) : JSON.stringify(v)}`).join(', '));
  for (const [k, v] of Object.entries(meta)) if (k !== 'provenance' && k !== 'metrics') kv(k, JSON.stringify(v));
  lines.push('');
  const head = ['op', 'kind', 'block', 'output', 'shape', 'params', 'MACs', 'scale', 'zp'];
  const rows = d.layers.map((l) => [l.name, l.kind, l.block, l.output, l.shape.join('x'), String(l.params), String(l.macs), l.scale.toPrecision(4), String(l.zeroPoint)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = new Set([5, 6, 7, 8]);
  const fmt = (r: string[]) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  lines.push(fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  lines.push('');
  const s = d.summary;
  lines.push(`${s.ops} ops, ${s.parameters} parameters (${(s.weightBytes / 1024).toFixed(1)} KiB of weights and params), ${s.macs} MACs (${(s.macs / 1e9).toFixed(3)} GMAC) per frame`);
  return `${lines.join('\n')}\n`;
}
