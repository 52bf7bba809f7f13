// `aunet replay SOURCE [--model FILE] [--realtime|--fps N|--speed X|--afap]
//   [--loop] [--range A:B] [--count N] [--golden FILE] [--report DIR] [--json]`
// Paces a source (camera/replayer.ts), runs every delivered frame through the
// shared preprocessing and the int8 engine, and reports drops, latency and lesion
// area; --golden records or checks per-frame output hashes (host/replay/golden.ts),
// --report writes an HTML report (host/replay/report.ts).
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { SOURCE_HELP } from '../../camera/source.js';
import { replay, parseRange, newStats } from '../../camera/replayer.js';
import type { Pace } from '../../camera/pacer.js';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
import { preprocess } from '../../camera/preprocess.js';
import { Golden, type GoldenDiff } from '../replay/golden.js';
import { writeReport, overlayThumb, type FrameRecord } from '../replay/report.js';
import type { RgbImage } from '../../common/image-io.js';
import { AunetError, UsageError } from '../../common/errors.js';
import { DEFAULT_MODEL } from '../../common/package-root.js';
import { loadModel, modelFile, shippedModelPresent } from '../load/model-loader.js';
import { loadEngine } from '../load/engine-loader.js';
import { engineOption } from './support/engine-options.js';

interface ReplayFlags {
  /** a file, or false for --no-model (pacing only) */
  model?: string | false;
  engine?: string;
  realtime?: boolean;
  fps?: string;
  speed?: string;
  afap?: boolean;
  loop?: boolean;
  range?: string;
  count?: string;
  golden?: string;
  report?: string;
  json?: boolean;
  dropAfter?: string;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay a source through the model, with golden checks and reports')
    .argument('<source>', `frame source: ${SOURCE_HELP}`)
    .option('--model <file>', 'int8 model (.aunet); default: the shipped models/busi-lite.aunet')
    .option('--no-model', 'replay and pace the frames without inference (timing checks)')
    .addOption(engineOption(undefined, 'direct'))
    .option('--realtime', 'pace frames by their recorded timestamps (the default)')
    .option('--fps <n>', 'pace frames at a fixed rate')
    .option('--speed <x>', 'recorded timestamps, x times faster')
    .option('--afap', 'as fast as possible (no pacing, nothing dropped)')
    .option('--drop-after <ms>', 'drop a frame that is this late (default: one frame interval, at least 5 ms)')
    .option('--loop', 'start over at the end (ids keep counting up; Ctrl-C or --count stops)')
    .option('--range <a:b>', 'source frames a (inclusive) to b (exclusive) of every pass')
    .option('--count <n>', 'stop after N frames (delivered + dropped)')
    .option('--golden <file>', 'record per-frame output hashes (first run) or check against them')
    .option('--report <dir>', 'write an HTML report with plots and thumbnails of differing frames')
    .option('--json', 'print the summary as JSON')
    .action(async (spec: string, o: ReplayFlags) => runReplay(spec, o));
}

function parsePace(o: ReplayFlags): Pace {
  const chosen = [o.realtime && '--realtime', o.fps !== undefined && '--fps', o.speed !== undefined && '--speed', o.afap && '--afap'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`choose one pacing: ${chosen.join(', ')} given`);
  if (o.fps !== undefined) return { mode: 'fps', fps: parseNumber(o.fps, '--fps', { above: 0 }) };
  if (o.speed !== undefined) return { mode: 'speed', factor: parseNumber(o.speed, '--speed', { above: 0 }) };
  if (o.afap) return { mode: 'afap' };
  return { mode: 'realtime' };
}

async function runReplay(spec: string, o: ReplayFlags): Promise<void> {
  const pace = parsePace(o);
  const count = parseInteger(o.count, '--count', { min: 1 });
  const range = o.range !== undefined ? parseRange(o.range) : undefined;
  const dropAfterMs = parseNumber(o.dropAfter, '--drop-after', { above: 0 });
  const modelSpec = o.model === false ? undefined : (o.model ?? (shippedModelPresent() ? DEFAULT_MODEL : undefined));
  if (!modelSpec && o.golden) throw new UsageError('--golden needs a model: drop --no-model or pass --model FILE');
  if (o.loop && count === undefined && !process.stdin.isTTY && !o.json) process.stderr.write('aunet: --loop without --count runs until interrupted\n');
  const loaded = modelSpec ? await loadModel(modelSpec) : undefined;
  // without built WebAssembly kernels (npm run build) the reference kernels give the same bits, slower
  const engine = loaded ? await loadEngine(loaded.model, { engine: o.engine, referenceIfNoWasm: true }) : undefined;
  if (!loaded) process.stderr.write(`aunet: no model${o.model === false ? '' : ` (${modelFile(DEFAULT_MODEL)} is missing; pass --model FILE)`}: replaying and pacing frames without inference\n`);
  if (engine?.note) process.stderr.write(`aunet: ${engine.note}\n`);
  const arch = loaded?.model.arch;
  const modelPath = loaded?.file ?? modelSpec;
  const golden = o.golden && loaded && arch
    ? new Golden(o.golden, { source: spec, model: { file: modelPath as string, sha256: loaded.sha256 }, width: arch.width, height: arch.height })
    : undefined;
  if (golden && !golden.recording && golden.model.sha256 !== loaded?.sha256) {
    process.stderr.write(`aunet: note: ${o.golden} was recorded with another model (${golden.model.file}); differences are expected\n`);
  }

  const stats = newStats();
  const records: FrameRecord[] = [];
  const diffs: (GoldenDiff & { thumb?: RgbImage })[] = [];
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const total = count ?? undefined;
  const bar = process.stderr.isTTY && !o.json && total
    ? new cliProgress.SingleBar({ format: 'replay {bar} {value}/{total} | dropped {dropped}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(total as number, 0, { dropped: 0 });
  const t0 = performance.now();
  try {
    for await (const r of replay(spec, { pace, loop: o.loop, range, count, dropAfterMs, signal: abort.signal }, stats)) {
      let latencyMs = 0;
      let lesionArea = 0;
      if (loaded && engine && arch) {
        const start = performance.now();
        const input = preprocess({ width: r.frame.width, height: r.frame.height, data: r.frame.pixels }, arch, loaded.model.preprocessing);
        const out = engine.engine.run(input.data);
        latencyMs = performance.now() - start;
        let area = 0;
        for (let i = 0; i < out.mask.length; i++) area += out.mask[i] ? 1 : 0;
        lesionArea = area / out.mask.length;
        const d = golden?.check(r.sourceIndex, r.frame.id, out);
        if (d) {
          const grey = arch.channels === 1 ? input.data : input.data.filter((_, i) => i % arch.channels === 0);
          const thumb = diffs.length < 50 && o.report
            ? overlayThumb(grey, arch.width, arch.height, out.mask, golden?.expectedMask(r.sourceIndex, out.mask.length))
            : undefined;
          diffs.push({ ...d, thumb });
        }
      }
      records.push({ id: r.frame.id, sourceIndex: r.sourceIndex, lesionArea, latencyMs, droppedSoFar: stats.dropped + stats.sourceDropped });
      bar?.update(stats.delivered + stats.dropped, { dropped: stats.dropped });
    }
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
  const wallS = (performance.now() - t0) / 1000;
  golden?.save();

  const lat = records.map((r) => r.latencyMs).sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const summary = {
    source: spec,
    model: modelPath ?? null,
    pacing: pace.mode === 'fps' ? `fps ${pace.fps}` : pace.mode === 'speed' ? `speed ${pace.factor}x` : pace.mode,
    frames: stats.delivered,
    dropped: stats.dropped,
    behind: stats.behind,
    sourceDropped: stats.sourceDropped,
    passes: stats.passes,
    wallSeconds: round(wallS),
    latencyMs: { mean: round(lat.reduce((a, b) => a + b, 0) / (lat.length || 1)), p50: round(q(0.5)), p95: round(q(0.95)), max: round(lat[lat.length - 1] ?? 0) },
    lesionArea: { mean: round(records.reduce((a, r) => a + r.lesionArea, 0) / (records.length || 1)), max: round(Math.max(0, ...records.map((r) => r.lesionArea))) },
    golden: golden
      ? { file: o.golden, recorded: golden.recording, checked: golden.checked, added: golden.added, differing: diffs.map(({ thumb: _t, ...d }) => ({ ...d, dice: round(d.dice) })) }
      : undefined,
  };
  if (o.report) {
    const file = writeReport(o.report, {
      title: `Replay of ${spec}`,
      summary: {
        source: spec, model: modelPath ?? '(none)', pacing: summary.pacing, frames: stats.delivered, dropped: stats.dropped, behind: stats.behind, passes: stats.passes,
        'latency mean / p95 ms': `${summary.latencyMs.mean} / ${summary.latencyMs.p95}`,
        golden: golden ? `${o.golden} (${golden.recording ? 'recorded' : `${golden.checked} checked, ${diffs.length} differ`})` : '-',
      },
      frames: records,
      diffs,
    });
    if (!o.json) process.stderr.write(`aunet: report written to ${file}\n`);
  }
  if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else {
    process.stdout.write(
      `${spec}: ${stats.delivered} frames in ${summary.wallSeconds} s (${summary.pacing}, ${stats.passes} pass${stats.passes > 1 ? 'es' : ''}); ` +
        `dropped ${stats.dropped}, behind ${stats.behind}${stats.sourceDropped ? `, dropped by the source queue ${stats.sourceDropped}` : ''}\n` +
        (loaded ? `latency ms: mean ${summary.latencyMs.mean}, p95 ${summary.latencyMs.p95}, max ${summary.latencyMs.max}; lesion area mean ${summary.lesionArea.mean}\n` : ''),
    );
    if (golden) {
      if (golden.recording) process.stdout.write(`golden: recorded ${golden.added} frames to ${o.golden}\n`);
      else {
        process.stdout.write(`golden: ${golden.checked} frames checked, ${diffs.length} differ${golden.added ? `, ${golden.added} new frames added` : ''}\n`);
        for (const d of diffs) {
          process.stdout.write(`  frame ${d.sourceIndex} (id ${d.id}): ${d.maskDiffers ? 'mask' : ''}${d.maskDiffers && d.attentionDiffers.length ? ', ' : ''}${d.attentionDiffers.map((a) => `a${a}`).join(' ')} differ; Dice ${d.dice.toFixed(4)}\n`);
        }
      }
    }
  }
  if (golden && diffs.length > 0) throw new AunetError('GOLDEN_MISMATCH', `${diffs.length} frame(s) differ from the golden outputs in ${o.golden}`);
}
