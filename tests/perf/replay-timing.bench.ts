// Real-time replay fidelity: how closely the released inter-frame gaps follow
// the recorded ones. A benchmark that prints figures (not a timed test):
//   node --import tsx tests/perf/replay-timing.bench.ts
// Schedules are absolute (due = pass start + recorded offset), so errors never accumulate.
// For each source: gap error = (release[i] - release[i-1]) - (recorded[i] - recorded[i-1]),
// drift = (release[i] - release[0]) - (recorded[i] - recorded[0]); pacing only, no inference,
// plus one looped run to show the gap at each wrap.
// Recorded results (machine, date) are kept at the bottom of this file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replay, newStats, type ReplayOptions } from '../../camera/replayer.js';
import { openSource } from '../../camera/source.js';
import { Recorder } from '../../camera/recorder.js';

const DATA = resolve(fileURLToPath(new URL('../../../shared/data', import.meta.url)));

async function measure(label: string, spec: string, o: ReplayOptions): Promise<void> {
  const stats = newStats();
  const rel: number[] = [];
  const rec: number[] = [];
  const pass: number[] = [];
  const late: number[] = [];
  for await (const r of replay(spec, o, stats)) {
    late.push(r.releasedMs - r.dueMs);
    rel.push(r.releasedMs);
    // recorded time on the replay's scale (--speed divides it)
    rec.push(Number(r.frame.captureTime.monoNs) / 1e6 / (o.pace.mode === 'speed' ? o.pace.factor : 1));
    pass.push(r.pass);
  }
  const errs: number[] = [];
  const wraps: number[] = [];
  let maxDrift = 0;
  let passStartRel = rel[0];
  let passStartRec = rec[0];
  for (let i = 1; i < rel.length; i++) {
    if (pass[i] !== pass[i - 1]) {
      wraps.push(rel[i] - rel[i - 1]);
      passStartRel = rel[i];
      passStartRec = rec[i];
      continue;
    }
    errs.push(rel[i] - rel[i - 1] - (rec[i] - rec[i - 1]));
    maxDrift = Math.max(maxDrift, Math.abs(rel[i] - passStartRel - (rec[i] - passStartRec)));
  }
  const abs = errs.map(Math.abs).sort((a, b) => a - b);
  const mean = abs.reduce((a, b) => a + b, 0) / (abs.length || 1);
  const p95 = abs[Math.min(abs.length - 1, Math.floor(0.95 * abs.length))] ?? 0;
  late.sort((a, b) => a - b);
  const gaps = rec.slice(1).map((t, i) => t - rec[i]).filter((g) => g > 0);
  const meanGap = gaps.reduce((a, b) => a + b, 0) / (gaps.length || 1);
  console.log(
    `${label.padEnd(34)} frames ${String(stats.delivered).padStart(4)}  recorded gap ${meanGap.toFixed(1).padStart(5)} ms  ` +
      `|gap error| mean ${mean.toFixed(3)} p95 ${p95.toFixed(3)} max ${(abs[abs.length - 1] ?? 0).toFixed(3)} ms  ` +
      `max drift ${maxDrift.toFixed(3)} ms  release after due p50 ${late[late.length >> 1].toFixed(3)} max ${late[late.length - 1].toFixed(3)} ms  dropped ${stats.dropped} behind ${stats.behind}` +
      (wraps.length ? `  wrap gaps ${wraps.map((w) => w.toFixed(1)).join(', ')} ms` : ''),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'aunet-bench-'));
try {
  // A recording of the variable-rate clip (the replayer's main use: rec: files).
  const recFile = join(dir, 'butterfly.aurec');
  const src = await openSource(`file:${join(DATA, 'clips/butterfly-ocular-phantom.mp4')}`);
  const r = new Recorder(recFile, src.info, 'bench');
  let n = 0;
  for await (const f of src) {
    r.append(f);
    if (++n === 120) break;
  }
  r.close();

  console.log(`replay timing, ${new Date().toISOString()}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, Node ${process.version}`);
  await measure('dicom cine (30 @ 33.3 ms)', `dicom:${join(DATA, 'dicom/examples_ybr_color.dcm')}`, { pace: { mode: 'realtime' } });
  await measure('file: mp4 via ffmpeg (100 @ 40 ms)', `file:${join(DATA, 'clips/sonosite-anon-eye1-video.mp4')}`, { pace: { mode: 'realtime' } });
  await measure('rec: butterfly (120, variable)', `rec:${recFile}`, { pace: { mode: 'realtime' } });
  await measure('rec: butterfly --speed 4', `rec:${recFile}`, { pace: { mode: 'speed', factor: 4 } });
  await measure('phantom 160x120 --loop (3 x 20)', 'phantom:?size=160x120&fps=30&frames=20', { pace: { mode: 'realtime' }, loop: true, count: 60 });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Recorded results
// (filled in from runs on the development machine; see the issue report)
