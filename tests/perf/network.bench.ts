// Whole-network figures for docs/benchmarks.md: runs `aunet bench --json` for
// every variant, both kernel builds and onnxruntime-web (float32 and int8), and prints the
// markdown rows with the date and the machine. Not a test (figures are not
// asserted): run it by hand on a quiet machine,
//   node --import tsx tests/perf/network.bench.ts [seed mid lite]
import { execFileSync } from 'node:child_process';
import { packageFile } from '../../common/package-root.js';

const cli = packageFile('host/cli.ts');
const variants = process.argv.slice(2).length ? process.argv.slice(2) : ['lite', 'mid', 'seed'];

interface Run { build: string; msPerFrame: number; p90Ms: number; gmacPerSec: number; cpuMsPerFrame: number; gmacPerCpuSec: number }
interface Report extends Run {
  variant: string; macs: number; builds: Run[];
  machine: { cpu: string; cores: number; node: string };
  peers: { peer: string; precision: string; msPerFrame: number; cpuMsPerFrame: number; gmacPerSec: number }[];
}

const rows: string[] = [];
let machine = '';
for (const v of variants) {
  process.stderr.write(`bench ${v} ...\n`);
  const out = execFileSync(process.execPath, ['--import', 'tsx', cli, 'bench', '--model', v, '--build', 'both', '--vs', 'onnxruntime-web', '--json', '--no-progress'], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  const r = JSON.parse(out) as Report;
  machine = `${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}`;
  const o = r.peers.find((p) => p.precision === 'float32')!;
  for (const b of r.builds) {
    rows.push(`| ${v} | ${(r.macs / 1e9).toFixed(2)} | ${b.build} | ${b.msPerFrame.toFixed(0)} | ${b.p90Ms.toFixed(0)} | ${b.gmacPerSec.toFixed(1)} | ${b.cpuMsPerFrame.toFixed(0)} | ${b.gmacPerCpuSec.toFixed(1)} | ${(o.msPerFrame / b.msPerFrame).toFixed(2)} | ${(o.cpuMsPerFrame / b.cpuMsPerFrame).toFixed(2)} |`);
  }
  for (const p of r.peers) {
    rows.push(`| ${v} | ${(r.macs / 1e9).toFixed(2)} | onnxruntime-web ${p.precision} | ${p.msPerFrame.toFixed(0)} | | ${p.gmacPerSec.toFixed(1)} | ${p.cpuMsPerFrame.toFixed(0)} | ${(r.macs / (p.cpuMsPerFrame * 1e6)).toFixed(1)} | ${(o.msPerFrame / p.msPerFrame).toFixed(2)} | ${(o.cpuMsPerFrame / p.cpuMsPerFrame).toFixed(2)} |`);
  }
}
process.stdout.write(`Measured ${new Date().toISOString().slice(0, 16)}Z on ${machine}.\n\n`);
process.stdout.write('| variant | GMAC | build | median ms | p90 ms | GMAC/s | CPU ms | GMAC/CPU-s | x ort-web (wall) | x ort-web (CPU) |\n');
process.stdout.write('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
process.stdout.write(`${rows.join('\n')}\n`);
