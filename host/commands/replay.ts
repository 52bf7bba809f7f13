// `aunet replay SOURCE... [--model FILE] [--realtime|--fps N|--speed X|--afap]
//   [--loop] [--range A:B] [--count N] [--golden FILE|DIR [--update-golden]]
//   [--salvage] [--report DIR] [--junit FILE] [--json]`
// Replays each source (host/replay/replay-case.ts): paced, every delivered frame
// preprocessed and inferred; drops, latency and lesion area reported. A golden
// check processes every frame unless a pacing flag asks otherwise (then a
// dropped frame fails it), refuses a source whose frames are not those of the
// golden file, and never writes the file unless it is new or --update-golden.
// Several sources (or a folder of recordings) are checked in one run: one case
// each in the JUnit XML (--junit) and the HTML report (--report).
import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { parseSpec, SOURCE_HELP } from '../../camera/source.js';
import { parseRange } from '../../camera/replayer.js';
import type { Pace } from '../../camera/pacer.js';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
import { isImageName, naturalCompare } from '../../common/image-folder.js';
import { statInput } from '../../common/input-file.js';
import { AunetError, UsageError } from '../../common/errors.js';
import { DEFAULT_MODEL } from '../../common/package-root.js';
import { replayCase, type CaseOptions, type CaseResult } from '../replay/replay-case.js';
import { selectionText, type Selection } from '../replay/golden.js';
import { writeReport, writeReportIndex } from '../replay/report.js';
import { writeJunit } from '../replay/junit.js';
import { loadModel, modelFile, shippedModelPresent } from '../load/model-loader.js';
import { loadEngine } from '../load/engine-loader.js';
import { engineOption, threadsOption } from './support/engine-options.js';

interface ReplayFlags {
  /** a file, or false for --no-model (pacing only) */
  model?: string | false;
  engine?: string;
  threads?: number;
  realtime?: boolean;
  fps?: string;
  speed?: string;
  afap?: boolean;
  loop?: boolean;
  range?: string;
  count?: string;
  golden?: string;
  updateGolden?: boolean;
  salvage?: boolean;
  report?: string;
  junit?: string;
  json?: boolean;
  dropAfter?: string;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay sources through the model, with golden checks, HTML and JUnit reports')
    .argument('<sources...>', `frame sources (${SOURCE_HELP}); a folder of .aurec recordings checks each of them`)
    .option('--model <file>', 'int8 model (.aunet); default: the shipped models/busi-lite.aunet')
    .option('--no-model', 'replay and pace the frames without inference (timing checks)')
    .addOption(engineOption(undefined, 'direct'))
    .addOption(threadsOption())
    .option('--realtime', 'pace frames by their recorded timestamps (the default without --golden)')
    .option('--fps <n>', 'pace frames at a fixed rate')
    .option('--speed <x>', 'recorded timestamps, x times faster')
    .option('--afap', 'as fast as possible, nothing dropped (the default with --golden)')
    .option('--drop-after <ms>', 'drop a frame that is this late (default: one frame interval, at least 5 ms)')
    .option('--loop', 'start over at the end (ids keep counting up; Ctrl-C or --count stops)')
    .option('--range <a:b>', 'source frames a (inclusive) to b (exclusive) of every pass')
    .option('--count <n>', 'stop after N frames (delivered + dropped)')
    .option('--golden <file>', 'check every frame against a golden file, or write it if it does not exist (a folder with several sources)')
    .option('--update-golden', 'rewrite the golden file(s) from this run')
    .option('--salvage', 'replay the intact frames of a damaged recording (labelled; a golden check of it fails)')
    .option('--report <dir>', 'write an HTML report with plots and thumbnails of differing frames')
    .option('--junit <file>', 'write JUnit XML: one test case per source (for Jenkins, GitLab)')
    .option('--json', 'print each source\'s summary as one line of JSON')
    .action(async (specs: string[], o: ReplayFlags) => runReplay(specs, o));
}

/** The pacing asked for, and whether it was asked for (a golden check paces only then). */
function parsePace(o: ReplayFlags): { pace: Pace; explicit: boolean } {
  const chosen = [o.realtime && '--realtime', o.fps !== undefined && '--fps', o.speed !== undefined && '--speed', o.afap && '--afap'].filter(Boolean);
  if (chosen.length > 1) throw new UsageError(`choose one pacing: ${chosen.join(', ')} given`);
  const explicit = chosen.length === 1 && !o.afap;
  if (o.fps !== undefined) return { pace: { mode: 'fps', fps: parseNumber(o.fps, '--fps', { above: 0 }) }, explicit };
  if (o.speed !== undefined) return { pace: { mode: 'speed', factor: parseNumber(o.speed, '--speed', { above: 0 }) }, explicit };
  if (o.afap || (o.golden && !o.realtime)) return { pace: { mode: 'afap' }, explicit };
  return { pace: { mode: 'realtime' }, explicit };
}

/** The sources to replay: a bare folder holding .aurec files stands for those recordings (folder:DIR stays an image folder). */
export function expandSources(args: string[]): string[] {
  return args.flatMap((arg) => {
    if (/^[a-z][a-z0-9]+:/.test(arg) || arg.startsWith('/dev/') || !statInput(arg, 'source').isDirectory()) return [arg];
    const names = readdirSync(arg).sort(naturalCompare);
    const recs = names.filter((n) => extname(n).toLowerCase() === '.aurec');
    if (recs.length === 0) return [arg];
    if (names.some(isImageName)) throw new UsageError(`folder holds both recordings and images: write rec:FILE for each recording, or folder:${arg} for the images`, 'USAGE', { subject: arg });
    return recs.map((n) => `rec:${join(arg, n)}`);
  });
}

/** A short unique name per source (golden files and report pages of a multi-source run). */
function caseNames(specs: string[]): string[] {
  const names = specs.map((s) => {
    const { target, scheme } = parseSpec(s);
    return basename(target, extname(target)) || scheme;
  });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new UsageError(`two sources are both named "${dup}": their golden files and report pages would collide; rename one`, 'USAGE', { subject: '--golden/--report' });
  return names;
}

async function runReplay(args: string[], o: ReplayFlags): Promise<void> {
  const { pace, explicit } = parsePace(o);
  const count = parseInteger(o.count, '--count', { min: 1 });
  const range = o.range !== undefined ? parseRange(o.range) : undefined;
  const dropAfterMs = parseNumber(o.dropAfter, '--drop-after', { above: 0 });
  const specs = expandSources(args);
  const many = specs.length > 1;
  const names = many ? caseNames(specs) : [''];
  const modelSpec = o.model === false ? undefined : (o.model ?? (shippedModelPresent() ? DEFAULT_MODEL : undefined));
  if (o.updateGolden && !o.golden) throw new UsageError('needs --golden FILE (the file to rewrite)', 'USAGE', { subject: '--update-golden' });
  if (o.golden) {
    if (!modelSpec) throw new UsageError('needs a model: drop --no-model or pass --model FILE', 'USAGE', { subject: '--golden' });
    const live = specs.find((s) => parseSpec(s).scheme === 'v4l2');
    if (live) throw new UsageError(`${live} is a live source (a capture card): its frames differ on every run, so it cannot be golden-checked`, 'USAGE', { subject: '--golden', hint: 'record it first (`aunet record SOURCE --out FILE.aurec`) and check the recording' });
    if (o.loop && count === undefined) throw new UsageError('--loop without --count never ends, so a golden check of it could not either', 'USAGE', { subject: '--golden', hint: 'add --count N' });
    if (many) {
      if (existsSync(o.golden) && !statSync(o.golden).isDirectory()) throw new UsageError('with several sources, --golden names a folder (one golden file per source)', 'USAGE', { subject: '--golden' });
      mkdirSync(o.golden, { recursive: true });
    }
  }
  if (o.loop && count === undefined && !process.stdin.isTTY && !o.json) process.stderr.write('aunet: --loop without --count runs until interrupted\n');
  const loaded = modelSpec ? await loadModel(modelSpec) : undefined;
  // without built WebAssembly kernels (npm run build) the reference kernels give the same bits, slower
  const engine = loaded ? await loadEngine(loaded.model, { engine: o.engine, threads: o.threads, referenceIfNoWasm: true }) : undefined;
  if (!loaded) process.stderr.write(`aunet: no model${o.model === false ? '' : ` (${modelFile(DEFAULT_MODEL)} is missing; pass --model FILE)`}: replaying and pacing frames without inference\n`);
  if (engine?.note) process.stderr.write(`aunet: ${engine.note}\n`);
  const selection: Selection = { range: o.range ?? null, count: count ?? null, loop: !!o.loop };

  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  const results: CaseResult[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      if (abort.signal.aborted) break;
      const goldenFile = o.golden && (many ? join(o.golden, `${names[i]}.golden.json`) : o.golden);
      const opts: CaseOptions = {
        pace, selection, range, dropAfterMs, salvage: o.salvage, thumbs: !!o.report, signal: abort.signal,
        model: loaded && engine ? { loaded, engine, file: loaded.file ?? modelSpec! } : undefined,
        golden: goldenFile ? { file: goldenFile, update: !!o.updateGolden } : undefined,
        onWarning: (w) => process.stderr.write(`aunet: warning: ${w}\n`),
      };
      const r = await withProgress(count ?? undefined, !!o.json, (onProgress) => replayCase(spec, { ...opts, onProgress }));
      results.push(r);
      print(r, { pace, explicit, loaded: !!loaded, json: !!o.json, golden: goldenFile });
      if (o.report) {
        const dir = many ? join(o.report, names[i]) : o.report;
        const file = writeReport(dir, reportInput(r, pace, loaded?.file ?? modelSpec));
        if (!o.json && !many) process.stderr.write(`aunet: report written to ${file}\n`);
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    await engine?.close();
  }
  if (o.report && many) {
    const file = writeReportIndex(o.report, `Replay of ${results.length} sources`, results.map((r, i) => ({ name: names[i], spec: r.spec, passed: !r.failure, detail: r.failure?.message ?? `${r.stats.delivered} frames` })));
    if (!o.json) process.stderr.write(`aunet: report written to ${file}\n`);
  }
  if (o.junit) {
    writeJunit(o.junit, 'aunet replay', results.map((r) => ({
      name: r.spec,
      seconds: Math.round(r.wallSeconds * 1000) / 1000,
      failure: r.failure ? { message: r.failure.message, type: r.failure.code } : undefined,
      output: [...summaryLines(r, pace, !!loaded), ...r.warnings.map((w) => `warning: ${w}`)].join('\n'),
    })));
  }
  const failed = results.filter((r) => r.failure);
  if (failed.length === 1 && !many) throw failed[0].failure;
  if (failed.length > 0) {
    throw new AunetError(failed[0].failure!.code, `${failed.length} of ${results.length} sources failed: ${failed.map((r) => `${r.spec} (${r.failure!.problem})`).join('; ')}`);
  }
}

async function withProgress<T>(total: number | undefined, quiet: boolean, run: (onProgress: CaseOptions['onProgress']) => Promise<T>): Promise<T> {
  const bar = process.stderr.isTTY && !quiet && total
    ? new cliProgress.SingleBar({ format: 'replay {bar} {value}/{total} | dropped {dropped}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(total as number, 0, { dropped: 0 });
  try {
    return await run((s) => bar?.update(s.delivered + s.dropped, { dropped: s.dropped }));
  } finally {
    bar?.stop();
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;

function pacingText(pace: Pace): string {
  return pace.mode === 'fps' ? `fps ${pace.fps}` : pace.mode === 'speed' ? `speed ${pace.factor}x` : pace.mode;
}

function latency(r: CaseResult) {
  const lat = r.records.map((x) => x.latencyMs).sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : 0);
  return { mean: round(lat.reduce((a, b) => a + b, 0) / (lat.length || 1)), p50: round(q(0.5)), p95: round(q(0.95)), max: round(lat[lat.length - 1] ?? 0) };
}

function summaryLines(r: CaseResult, pace: Pace, model: boolean): string[] {
  const s = r.stats;
  const lines = [`${r.spec}: ${s.delivered} frames in ${round(r.wallSeconds)} s (${pacingText(pace)}, ${s.passes} pass${s.passes > 1 ? 'es' : ''}); dropped ${s.dropped}, behind ${s.behind}${s.sourceDropped ? `, dropped by the source queue ${s.sourceDropped}` : ''}`];
  if (r.salvagedLost !== undefined) lines.push(`SALVAGED recording: ${r.salvagedLost} frames lost to damage`);
  if (model) {
    const l = latency(r);
    const area = round(r.records.reduce((a, x) => a + x.lesionArea, 0) / (r.records.length || 1));
    lines.push(`latency ms: mean ${l.mean}, p95 ${l.p95}, max ${l.max}; lesion area mean ${area}`);
  }
  const g = r.golden;
  if (g?.recording && !r.failure) lines.push(`golden: wrote ${g.frameCount} frames (${selectionText(g.selection)}) to ${g.file}`);
  else if (g && !g.recording) {
    lines.push(`golden: ${g.checked} of ${g.frameCount} frames checked, ${g.diffs.length} differ, ${g.missing.length} not checked`);
    for (const d of r.diffs) {
      lines.push(`  frame ${d.sourceIndex} (id ${d.id}): ${d.maskDiffers ? 'mask' : ''}${d.maskDiffers && d.attentionDiffers.length ? ', ' : ''}${d.attentionDiffers.map((a) => `a${a}`).join(' ')} differ; Dice ${d.dice.toFixed(4)}`);
    }
    for (const m of g.missing.slice(0, 10)) lines.push(`  frame ${m.sourceIndex} (id ${m.id}): not checked: ${m.why}`);
    if (g.missing.length > 10) lines.push(`  ... and ${g.missing.length - 10} more not checked (the --report lists them all)`);
  }
  if (r.failure) lines.push(`FAILED: ${r.failure.message}`);
  return lines;
}

function print(r: CaseResult, o: { pace: Pace; explicit: boolean; loaded: boolean; json: boolean; golden?: string }): void {
  if (!o.json) {
    process.stdout.write(summaryLines(r, o.pace, o.loaded).join('\n') + '\n');
    return;
  }
  const s = r.stats;
  const g = r.golden;
  process.stdout.write(JSON.stringify({
    source: r.spec,
    pacing: pacingText(o.pace),
    frames: s.delivered,
    dropped: s.dropped,
    behind: s.behind,
    sourceDropped: s.sourceDropped,
    passes: s.passes,
    wallSeconds: round(r.wallSeconds),
    latencyMs: latency(r),
    lesionArea: { mean: round(r.records.reduce((a, x) => a + x.lesionArea, 0) / (r.records.length || 1)), max: round(Math.max(0, ...r.records.map((x) => x.lesionArea))) },
    ...(r.salvagedLost !== undefined ? { salvaged: { lostFrames: r.salvagedLost } } : {}),
    golden: g ? {
      file: o.golden,
      recorded: g.recording && !r.failure,
      frames: g.frameCount,
      checked: g.checked,
      differing: r.diffs.map(({ thumb: _t, ...d }) => ({ ...d, dice: round(d.dice) })),
      missing: g.missing,
    } : undefined,
    passed: !r.failure,
    failure: r.failure ? { code: r.failure.code, message: r.failure.message } : undefined,
    warnings: r.warnings,
  }) + '\n');
}

function reportInput(r: CaseResult, pace: Pace, model: string | undefined): Parameters<typeof writeReport>[1] {
  const s = r.stats;
  const g = r.golden;
  const l = latency(r);
  return {
    title: `Replay of ${r.spec}`,
    summary: {
      source: r.spec, model: model ?? '(none)', pacing: pacingText(pace), frames: s.delivered, dropped: s.dropped, behind: s.behind, passes: s.passes,
      'latency mean / p95 ms': `${l.mean} / ${l.p95}`,
      golden: g ? `${g.file} (${g.recording ? `written, ${g.frameCount} frames` : `${g.checked} of ${g.frameCount} checked, ${g.diffs.length} differ, ${g.missing.length} not checked`})` : '-',
      result: r.failure ? 'FAILED' : 'passed',
    },
    frames: r.records,
    diffs: r.diffs,
    missing: g?.missing,
    failure: r.failure?.message,
    warnings: r.warnings,
  };
}
