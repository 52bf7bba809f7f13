// Whole-network A/B between two checkouts (e.g. main's worktree and this one, each built):
// each (checkout, model, engine, threads) runs in a fresh process, alternating between the two
// checkouts `--rounds` times, so a shared machine's load hits both alike; prints per-frame
// medians and minima and the ratios, with the CPU model and the load average. Not part of npm test.
// Run: node --import tsx tests/perf/network-ab.bench.ts --baseline ../other-checkout
//        [--models busi-lite,seed] [--engines direct,chip] [--threads 1,2] [--frames 30] [--rounds 2]
// busi-lite: the shipped models/busi-lite.aunet; seed: random weights of the seed shape (F 32, 256x256x3).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { parseInteger } from '../../common/cli-args.js';
import { machineLine } from '../../host/bench/network.js';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);

interface Run { median: number; min: number }

if (argv[0] === '--child') {
  const [, root, model, engine, threads, frames] = argv;
  const imp = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  const { loadModel } = await imp('host/load/model-loader.ts');
  const { loadEngine } = await imp('host/load/engine-loader.ts');
  const { syntheticFrames } = await imp('models/random-model.ts');
  const { model: m } = await loadModel(model === 'seed' ? 'random:F32x256x256x3' : resolve(root, 'models/busi-lite.aunet'));
  const { engine: e, close } = await loadEngine(m, { engine, threads: Number(threads), kernels: 'wasm' });
  const inputs = syntheticFrames(m.arch, 4, 3);
  for (let i = 0; i < 5; i++) await e.run(inputs[i % 4]); // tier-up
  const t: number[] = [];
  for (let i = 0; i < Number(frames); i++) { const s = performance.now(); await e.run(inputs[i % 4]); t.push(performance.now() - s); }
  t.sort((a, b) => a - b);
  console.log(JSON.stringify({ median: t[t.length >> 1], min: t[0] } satisfies Run));
  await close();
  process.exit(0);
}

const { values: o } = parseArgs({
  options: {
    baseline: { type: 'string', default: '' },
    models: { type: 'string', default: 'busi-lite,seed' },
    engines: { type: 'string', default: 'direct,chip' },
    threads: { type: 'string', default: '1,2' },
    frames: { type: 'string' },
    rounds: { type: 'string', default: '2' },
  },
});
const baseline = o.baseline;
if (!baseline) throw new Error('--baseline DIR (another checkout of this repository, built) is required');
const here = resolve(fileURLToPath(import.meta.url), '../../..');
const roots = [resolve(baseline), here];
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const rounds = parseInteger(o.rounds, '--rounds', { min: 1 });
console.log(`network-ab: ${machineLine()}, load ${load()}, ${new Date().toISOString()}`);
console.log(`baseline ${roots[0]} vs ${roots[1]}; ms per frame (median / min), each checkout best of ${rounds} alternating processes`);
for (const model of o.models.split(',')) {
  for (const engine of o.engines.split(',')) {
    for (const threads of o.threads.split(',')) {
      const frames = o.frames ?? (model === 'seed' ? '7' : '30');
      const best = roots.map(() => ({ median: Infinity, min: Infinity }));
      for (let r = 0; r < rounds; r++) {
        roots.forEach((root, i) => {
          const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', root, model, engine, threads, frames],
            { encoding: 'utf8', env: { ...process.env, AUNET_THREADS: threads }, stdio: ['ignore', 'pipe', 'inherit'] });
          const run = JSON.parse(out.trim().split('\n').pop()!) as Run;
          best[i] = { median: Math.min(best[i].median, run.median), min: Math.min(best[i].min, run.min) };
        });
      }
      const [a, b] = best;
      console.log(`${model.padEnd(10)} ${engine.padEnd(7)} ${threads} thread(s): baseline ${a.median.toFixed(1)} / ${a.min.toFixed(1)} ms, now ${b.median.toFixed(1)} / ${b.min.toFixed(1)} ms, x${(a.median / b.median).toFixed(2)} (median) x${(a.min / b.min).toFixed(2)} (min); load ${load()}`);
    }
  }
}
