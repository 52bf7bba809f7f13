// Long fuzz runs of every decoder that takes outside bytes (tests/fuzz/targets.ts)
// with the figures docs/security.md records: inputs tried, inputs per second,
// crashes, hangs (one input over 1 s), the slowest input and the peak RSS.
// Each target runs in a child process of its own, watched from here: a child
// that prints no progress for 30 s is hung in a synchronous loop (which no
// in-process timer can interrupt) and is killed and reported as such.
//   node --import tsx tests/perf/fuzz.bench.ts [--runs 1000000] [--seconds S] [--seed N] [target ...]
// Not a test; CI runs the short seeded pass in tests/fuzz/fuzz.test.ts.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fuzzTargets } from '../fuzz/targets.js';
import { fuzz, type FuzzReport } from '../fuzz/runner.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '1000000' }, seconds: { type: 'string' }, seed: { type: 'string', default: String(Date.now() % 2 ** 31) }, child: { type: 'boolean', default: false } },
});
const runs = Number(values.runs);
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
const seed = Number(values.seed);

interface ChildReport extends FuzzReport {
  peakRssMb: number;
}

if (values.child) {
  // one target, in chunks so progress (and RSS) is reported while it runs
  const [t] = await fuzzTargets(positionals);
  const total: ChildReport = { target: t.name, inputs: 0, seconds: 0, crashes: 0, examples: [], hangs: 0, slowestMs: 0, peakRssMb: 0 };
  const t0 = performance.now();
  const chunk = 10_000;
  for (let i = 0; total.inputs < runs; i++) {
    const left = seconds === undefined ? undefined : seconds - (performance.now() - t0) / 1000;
    if (left !== undefined && left <= 0) break;
    const r = await fuzz(t, { seed: seed + i, numRuns: Math.min(chunk, runs - total.inputs), seconds: left });
    total.inputs += r.inputs;
    total.crashes += r.crashes;
    total.examples.push(...r.examples.slice(0, Math.max(0, 20 - total.examples.length)));
    total.hangs += r.hangs;
    total.slowestMs = Math.max(total.slowestMs, r.slowestMs);
    total.peakRssMb = Math.max(total.peakRssMb, process.memoryUsage().rss / 2 ** 20);
    process.stdout.write(`progress ${total.inputs}\n`);
    if (r.inputs === 0) break;
  }
  total.seconds = (performance.now() - t0) / 1000;
  await t.close?.();
  process.stdout.write(`report ${JSON.stringify(total)}\n`);
  process.exit(0);
}

function runChild(name: string): Promise<ChildReport> {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--runs', String(runs), '--seed', String(seed), ...(seconds === undefined ? [] : ['--seconds', String(seconds)]), name];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AUNET_THREADS: '1' } });
    const t0 = performance.now();
    let report: ChildReport | null = null;
    let last = 0;
    let watchdog = setTimeout(hung, 60_000);
    function hung() {
      child.kill('SIGKILL');
      report = { target: name, inputs: last, seconds: (performance.now() - t0) / 1000, crashes: 0, examples: [], hangs: 1, slowestMs: Infinity, peakRssMb: NaN };
    }
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('progress ')) {
          last = Number(line.slice(9));
          process.stderr.write(`\r${name}: ${last} inputs, ${(last / ((performance.now() - t0) / 1000)).toFixed(0)}/s   `);
          clearTimeout(watchdog);
          watchdog = setTimeout(hung, 30_000);
        } else if (line.startsWith('report ')) report = JSON.parse(line.slice(7)) as ChildReport;
      }
    });
    child.on('exit', (code) => {
      clearTimeout(watchdog);
      process.stderr.write('\n');
      resolve(report ?? { target: name, inputs: last, seconds: (performance.now() - t0) / 1000, crashes: 1, examples: [{ input: '', error: `the fuzzing process died (exit ${code})` }], hangs: 0, slowestMs: NaN, peakRssMb: NaN });
    });
  });
}

const names = positionals.length ? positionals : (await fuzzTargets()).map((t) => t.name);
const cpu = `${cpus()[0]?.model ?? '?'} x${cpus().length}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}`;
process.stdout.write(`fuzz: seed ${seed}, up to ${runs} inputs${seconds ? ` or ${seconds} s` : ''} per target; ${cpu}\n\n`);
process.stdout.write('| target | inputs | seconds | inputs/s | crashes | hangs > 1 s | slowest ms | peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n');
let bad = 0;
const details: string[] = [];
for (const n of names) {
  const r = await runChild(n);
  bad += r.crashes + r.hangs;
  process.stdout.write(`| ${n} | ${r.inputs} | ${r.seconds.toFixed(0)} | ${(r.inputs / r.seconds).toFixed(0)} | ${r.crashes} | ${r.hangs} | ${r.slowestMs.toFixed(0)} | ${r.peakRssMb.toFixed(0)} |\n`);
  for (const [i, c] of r.examples.entries()) {
    // the whole input, to replay: the target's run() on readFileSync(file)
    const file = join(tmpdir(), `aunet-fuzz-crash-${n}-${seed}-${i}.bin`);
    writeFileSync(file, Buffer.from(c.input, 'hex'));
    details.push(`${n}: ${c.error}\n  input: ${file} (${c.input.length / 2} bytes)`);
  }
}
process.stdout.write(`\nload after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
if (details.length) process.stdout.write(`\n${details.join('\n')}\n`);
process.exitCode = bad ? 1 : 0;
