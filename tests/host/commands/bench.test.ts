// `aunet bench` end to end on the small variant: the JSON report carries the
// figures and the machine, the per-layer rows follow the graph, both builds run
// (relaxed in a child Node with the V8 flag), and bad flags are usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { buildGraph, convOps, graphMacs, type Arch } from '../../../models/graph.js';
import { packageFile } from '../../../common/package-root.js';

const cli = packageFile('host/cli.ts');
const run = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', cli, 'bench', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });

interface Row { name: string; kind: string; macs: number; ms: number; cpuMs: number; gmacPerSec: number | null }
interface Run { build: string; engine: string; frames: number; msPerFrame: number; gmacPerSec: number; cpuMsPerFrame: number; layers: Row[] }
interface Report extends Run { variant: string; arch: Arch; macs: number; machine: { cpu: string; cores: number; node: string; kernelBuild: string }; builds: Run[] }

test('bench --model lite --json --build both: figures for both builds, per layer, with the machine', () => {
  const r = JSON.parse(run('--model', 'lite', '--frames', '2', '--build', 'both', '--json', '--no-progress')) as Report;
  const g = buildGraph({ filters: 8, height: 128, width: 128, channels: 1 });
  assert.equal(r.variant, 'lite');
  assert.equal(r.macs, graphMacs(g));
  assert.deepEqual(r.builds.map((b) => b.build), ['wasm-simd', 'wasm-relaxed-simd']);
  assert.equal(r.build, 'wasm-simd');
  assert.equal(r.machine.node, process.version);
  assert.ok(r.machine.cores >= 1 && r.machine.cpu.length > 0);
  for (const b of r.builds) {
    assert.equal(b.frames, 2);
    assert.ok(b.msPerFrame > 0 && b.cpuMsPerFrame > 0);
    assert.ok(Math.abs(b.gmacPerSec - r.macs / (b.msPerFrame * 1e6)) < 1e-9);
    assert.deepEqual(b.layers.map((l) => l.name), g.ops.map((o) => o.name));
    for (const l of b.layers) assert.equal(l.gmacPerSec === null, l.macs === 0, l.name);
  }
});

test('bench --vs onnxruntime-web runs our exported ONNX float network and gives the ratio', () => {
  const r = JSON.parse(run('--model', 'lite', '--frames', '3', '--vs', 'onnxruntime-web', '--json', '--no-progress')) as Report & {
    onnxruntimeWeb: { runtime: string; frames: number; msPerFrame: number; cpuMsPerFrame: number; ratio: number; cpuRatio: number; onnxBytes: number };
  };
  const o = r.onnxruntimeWeb;
  assert.match(o.runtime, /^onnxruntime-web 1\.\d+\.\d+ \(wasm, 1 thread, float32, simd\)$/);
  assert.equal(o.frames, 3);
  const weights = convOps(buildGraph(r.arch)).reduce((n, c) => n + c.cout * c.k * c.k * c.cin, 0);
  assert.ok(o.onnxBytes > 4 * weights, `the float32 ONNX holds ${weights} weights, got only ${o.onnxBytes} bytes`);
  assert.ok(Math.abs(o.ratio - o.msPerFrame / r.msPerFrame) < 1e-9);
  assert.ok(Math.abs(o.cpuRatio - o.cpuMsPerFrame / r.cpuMsPerFrame) < 1e-9);
});

test('bench prints a per-layer table and the whole-frame line', () => {
  const out = run('--model', 'lite', '--frames', '1', '--no-progress');
  assert.match(out, /aunet bench lite: F=8, 128x128x1, 0\.247 GMAC\/frame/);
  assert.match(out, /^dec4\.conv1 +conv +28\.3 /m);
  assert.match(out, /direct\/wasm-\S+: 1 frames, median [\d.]+ ms, p90 [\d.]+ ms/);
});

test('bad bench flags are usage errors naming the flag', () => {
  for (const [args, pattern] of [
    [['--model', 'huge'], /--model must be one of seed, mid, lite, got 'huge'/],
    [['--threads', '4'], /--threads: only 1 is supported/],
    [['--frames', '0'], /--frames must be an integer >= 1/],
    [['--build', 'fast'], /--build must be one of simd, relaxed, auto, both/],
    [['--vs', 'tflite'], /--vs: only onnxruntime-web/],
  ] as const) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', cli, 'bench', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});
