// aunet chip: compile the network for a chip model and report cycles, memory
// and traffic (docs/chip-model.md). `aunet chip sweep` repeats it over SRAM
// sizes and plots DRAM traffic and fps against SRAM size.
import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { buildGraph, type Arch } from '../../models/graph.js';
import type { QModel } from '../../models/qmodel.js';
import { FileError, UsageError } from '../../common/errors.js';
import { VARIANTS, VARIANT_NAMES, type Variant } from '../bench/network.js';
import { loadPreset, parseByteSize, presetNames, readChipConfig, resolveChipConfig, type ChipConfig } from '../chip/chip-config.js';
import { compile, type CompileOptions } from '../chip/compiler.js';
import { timeProgram } from '../chip/timing.js';
import { buildReport, formatReport, type ChipReport } from '../chip/report.js';
import { chromeTrace } from '../chip/trace.js';
import { sweepSram } from '../chip/sweep.js';
import { loadModel } from '../load/model-loader.js';
import { Canvas, drawPanel } from '../../common/plot.js';
import { writeRgbPng } from '../../common/image-io.js';

interface Options {
  model?: string;
  config?: string;
  preset?: string;
  sram?: string;
  json?: boolean;
  trace?: string;
  layers?: boolean;
  listPresets?: boolean;
}

export function register(program: Command): void {
  const chip = program
    .command('chip')
    .description('compile the network for a chip model and report cycles, memory and traffic')
    .option('--model <name|file>', 'seed | mid | lite (bench variants) or an .aunet file')
    .option('--config <file>', 'chip configuration JSON (docs/chip-model.md)')
    .option('--preset <name>', 'a shipped chip preset (see --list-presets)')
    .option('--sram <bytes>', 'override the SRAM size (e.g. 131072, 128K, 1M); for sweep a comma-separated list')
    .option('--json', 'print one JSON object instead of the text report')
    .option('--trace <file>', 'write a Chrome trace-event JSON of one frame (open in Perfetto)')
    .option('--no-layers', 'omit the per-layer table from the text report')
    .option('--list-presets', 'name the shipped presets and exit')
    .action(async (o: Options) => {
      if (o.listPresets) {
        for (const name of presetNames()) {
          const c = loadPreset(name);
          const macs = c.units.encoder.macsPerCycle + c.units.attention.macsPerCycle + c.units.decoder.macsPerCycle;
          process.stdout.write(`${name.padEnd(10)} ${String(macs).padStart(5)} MACs  ${String(c.sram.bytes / 1024).padStart(5)} KiB SRAM  ${c.clockHz / 1e6} MHz  ${c.description ?? ''}\n`);
        }
        return;
      }
      const { model, label } = await chipModel(o.model);
      const config = chipConfig(o);
      const report = analyse(model.arch, config, compileOptions(model), o.trace);
      process.stdout.write(o.json ? JSON.stringify({ ...report, model: { name: label, ...report.model } }, null, 1) + '\n' : `model ${label}\n` + formatReport(report, o.layers !== false));
    });

  chip
    .command('sweep')
    .description('repeat the analysis over SRAM sizes (--sram 32K,64K,...); print a table and write a PNG plot of DRAM traffic and fps')
    .usage('--model <name|file> --sram <sizes> [--preset <name> | --config <file>] [--out <dir>] [--json]')
    // --model, --sram, --preset, --config and --json are `aunet chip`'s: listed under "Global Options"
    .configureHelp({ showGlobalOptions: true })
    .option('--out <dir>', 'folder for sweep.png and sweep.json', '.')
    .action(async (_opts: unknown, cmd: Command) => {
      // --model, --sram, --config, --preset, --json are the chip command's options
      const o = cmd.optsWithGlobals() as { model?: string; sram?: string; config?: string; preset?: string; out: string; json?: boolean };
      if (!o.sram) throw new UsageError('chip sweep needs --sram with a comma-separated list of sizes, e.g. --sram 32K,64K,128K');
      const { model, label } = await chipModel(o.model);
      const sizes = o.sram.split(',').map((s) => parseByteSize(s));
      if (!sizes.length) throw new UsageError('--sram needs at least one size');
      const base = chipConfig({ config: o.config, preset: o.preset });
      const opts = compileOptions(model);
      const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'sweep {bar} {value}/{total} SRAM sizes', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
      bar?.start(sizes.length, 0);
      const rows = sweepSram(buildGraph(model.arch), base, sizes, opts, (n) => bar?.update(n)).map((r) =>
        r.ok
          ? { sramBytes: r.sramBytes, ok: true as const, scheduleSramBytes: r.scheduleSramBytes, dramReadBytes: r.report.memory.dramReadBytes, dramWriteBytes: r.report.memory.dramWriteBytes, cycles: r.report.frame.cycles, ms: r.report.frame.ms, fps: r.report.frame.fps, sramPeakBytes: r.report.memory.sramPeakBytes, instructions: r.report.instructions.total, spills: r.report.residency.spills, fetches: r.report.residency.fetches }
          : r,
      );
      bar?.stop();
      mkdirSync(o.out, { recursive: true });
      const png = join(o.out, 'sweep.png');
      writeFileSync(join(o.out, 'sweep.json'), JSON.stringify({ model: label, preset: base.name, rows }, null, 1) + '\n');
      const good = rows.filter((r) => r.ok);
      if (good.length) plotSweep(png, label, base.name, good);
      if (o.json) {
        process.stdout.write(JSON.stringify({ model: label, preset: base.name, rows, plot: good.length ? png : null }, null, 1) + '\n');
        return;
      }
      const lines = [`model ${label}, chip ${base.name}`, '      SRAM    DRAM read   DRAM write       cycles        ms      fps   SRAM peak  spills fetches'];
      for (const r of rows) {
        if (!r.ok) lines.push(`${size(r.sramBytes).padStart(10)}  refused: ${r.error}`);
        else lines.push(`${size(r.sramBytes).padStart(10)} ${mib(r.dramReadBytes).padStart(12)} ${mib(r.dramWriteBytes).padStart(12)} ${String(r.cycles).padStart(12)} ${r.ms.toFixed(2).padStart(9)} ${r.fps.toFixed(1).padStart(8)} ${size(r.sramPeakBytes).padStart(11)} ${String(r.spills).padStart(7)} ${String(r.fetches).padStart(7)}${r.scheduleSramBytes !== r.sramBytes ? `  (schedule of ${size(r.scheduleSramBytes)}: fewer DRAM bytes)` : ''}`);
      }
      lines.push(good.length ? `plot: ${png}` : 'no SRAM size worked: no plot');
      process.stdout.write(lines.join('\n') + '\n');
    });
}

function analyse(arch: Arch, config: ChipConfig, opts: CompileOptions, traceFile?: string): ChipReport {
  const program = compile(buildGraph(arch), config, opts);
  const timing = timeProgram(program);
  if (traceFile) {
    try {
      writeFileSync(traceFile, JSON.stringify(chromeTrace(program, timing)));
    } catch (e) {
      throw new FileError(traceFile, `cannot write trace: ${(e as Error).message}`, 'WRITE_FAILED');
    }
  }
  return buildReport(program, timing);
}

function chipConfig(o: { config?: string; preset?: string; sram?: string }): ChipConfig {
  if (o.config && o.preset) throw new UsageError('give --config or --preset, not both');
  const base = o.config ? readChipConfig(o.config) : o.preset ?? 'default';
  return resolveChipConfig(base, o.sram !== undefined ? parseByteSize(o.sram) : undefined);
}

/** Timing needs the shapes and the kernels' packed weight size; the WASM build packs OHWI compactly too. */
function compileOptions(model: QModel): CompileOptions {
  const pads: CompileOptions['pads'] = {};
  for (const [name, p] of Object.entries(model.ops)) if (p.kind === 'conv') pads[name] = p.pads;
  return { pads };
}

/** A bench variant (shapes only) or a model spec for the model loader. */
async function chipModel(spec: string | undefined): Promise<{ model: QModel; label: string }> {
  if (!spec) throw new UsageError(`--model is required (${VARIANT_NAMES.join(', ')} or an .aunet file)`);
  if ((VARIANT_NAMES as string[]).includes(spec)) {
    const v = VARIANTS[spec as Variant];
    return { model: archOnlyModel({ ...v }), label: `${spec} (F=${v.filters}, ${v.width}x${v.height}x${v.channels})` };
  }
  if (!existsSync(spec)) throw new FileError(spec, `no such model file (or use a variant: ${VARIANT_NAMES.join(', ')})`, 'NO_FILE');
  return { model: (await loadModel(spec)).model, label: basename(spec) };
}

/** The chip report depends only on shapes and conv padding, so a variant needs no weights. */
function archOnlyModel(arch: Arch): QModel {
  return { arch, preprocessing: { resize: 'stretch', normalize: 'unit' } as QModel['preprocessing'], tensors: {}, ops: {} };
}

function plotSweep(file: string, model: string, preset: string, rows: { sramBytes: number; dramReadBytes: number; dramWriteBytes: number; fps: number }[]): void {
  const cv = new Canvas(1000, 420);
  const x = rows.map((r) => Math.log2(r.sramBytes));
  const xLabels = rows.map((r) => size(r.sramBytes));
  drawPanel(cv, 0, 20, 500, 390, {
    title: 'DRAM MiB PER FRAME', x, xLabels,
    series: [
      { values: rows.map((r) => r.dramReadBytes / 2 ** 20), colour: [31, 119, 180], label: 'READ' },
      { values: rows.map((r) => r.dramWriteBytes / 2 ** 20), colour: [255, 127, 14], label: 'WRITE' },
    ],
  });
  drawPanel(cv, 500, 20, 500, 390, { title: 'FPS', x, xLabels, series: [{ values: rows.map((r) => r.fps), colour: [44, 160, 44] }] });
  cv.text(10, 6, `${model.split(' ')[0]} ON ${preset} - SRAM SIZE SWEEP`.toUpperCase(), [80, 80, 80]);
  writeRgbPng(file, cv);
}

function size(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10}K`;
  return String(n);
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(2)} MiB`;
}
