// Benchmark (on demand, not part of npm test): the live pipeline on a 30 fps
// phantom source with the lite model, embedded broker, one WebSocket subscriber
// (as the monitor). Prints sustained fps published and received, and latency
// percentiles per stage and capture-to-publish, with the machine it ran on.
//   node --import tsx tests/perf/pipeline.bench.ts [--seconds 30] [--model FILE|random:F8x128] [--engine chip|direct] [--fps 30]
import { cpus, loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { resolveConfig } from '../../contracts/run-config.js';
import { LiveService } from '../../host/box/live-service.js';
import { decodeFrameMessage } from '../../contracts/frame-message.js';
import { LatencyWindow } from '../../host/pipeline/stats.js';
import { wallNow } from '../../common/clock.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    model: { type: 'string' },
    engine: { type: 'string', default: 'chip' },
    fps: { type: 'string', default: '30' },
    size: { type: 'string', default: '320x240' },
  },
});
const model = values.model ?? (existsSync('models/busi-lite.aunet') ? 'models/busi-lite.aunet' : 'random:F8x128');
const seconds = Number(values.seconds);
const warmupFrames = 60;
const config = resolveConfig({
  model,
  engine: values.engine,
  source: `phantom:?size=${values.size}&fps=${values.fps}&frames=0`,
  device: 'bench',
  broker: { port: 0, httpPort: 0 },
  pipeline: { warmupFrames },
  publish: { statsIntervalMs: 1000 },
});
const rt = await LiveService.start({ config, log: pino({ level: 'warn' }, pino.destination(2)), version: 'bench' });
const sub = await mqtt.connectAsync(rt.broker!.wsUrl);
const received = new LatencyWindow(1 << 16);
let frames = 0;
let measuring = false;
let firstId = -1;
let lastId = -1;
sub.on('message', (_t, payload) => {
  const m = decodeFrameMessage(new Uint8Array(payload));
  frames++;
  if (frames === warmupFrames) {
    measuring = true;
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    elu0 = performance.eventLoopUtilization();
    firstId = m.frameId;
    base = rt.pipeline.stats.framesOut;
  }
  if (measuring) {
    received.add(wallNow() - m.captureTime);
    lastId = m.frameId;
  }
});
let t0 = 0;
let base = 0;
let cpu0 = process.cpuUsage();
let elu0 = performance.eventLoopUtilization();
await sub.subscribeAsync('aunet/bench/frame');
while (!measuring) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = (performance.now() - t0) / 1000;
const published = rt.pipeline.stats.framesOut - base;
const cpuUsed = process.cpuUsage(cpu0);
const elu = performance.eventLoopUtilization(elu0);
const snap = rt.pipeline.stats.snapshot();
await sub.endAsync();
await rt.stop();

const fmt = (p: { p50: number; p99: number; max: number } | null) => (p ? `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} / ${p.max.toFixed(1)}` : '-');
const cpu = cpus();
console.log(`\n## pipeline benchmark ${new Date().toISOString()}`);
console.log(`machine: ${cpu.length} x ${cpu[0]?.model ?? '?'}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`model ${rt.model.name}, engine ${rt.engine.kind}${rt.engine.fallback ? ' (fallback)' : ''}, source ${config.source}, ${seconds} s after ${warmupFrames} warm-up frames\n`);
console.log('| figure | value |');
console.log('| --- | --- |');
console.log(`| fps published (sustained) | ${(published / elapsed).toFixed(1)} |`);
console.log(`| fps received by a WebSocket subscriber | ${(received.size / elapsed).toFixed(1)} |`);
console.log(`| frames dropped (source / inference / publish) | ${snap.frames.dropped.source} / ${snap.frames.dropped.inference} / ${snap.frames.dropped.publish} |`);
console.log(`| ids received, first..last | ${firstId}..${lastId} (${received.size} frames) |`);
for (const [k, v] of Object.entries(snap.latencyMs)) console.log(`| ${k} ms p50 / p99 / max | ${fmt(v)} |`);
console.log(`| capture to subscriber ms p50 / p99 / max | ${fmt(received.percentiles())} |`);
console.log(`| chip cycles per frame | ${snap.chip.cyclesPerFrame ?? '-'} |`);
console.log(`| process CPU ms per published frame (both threads) | ${((cpuUsed.user + cpuUsed.system) / 1000 / Math.max(1, published)).toFixed(1)} |`);
console.log(`| main thread busy (event-loop utilisation) | ${(elu.utilization * 100).toFixed(0)} % |`);
const e2e = snap.latencyMs.endToEnd;
const ok = published / elapsed >= Number(values.fps) * 0.97 && e2e !== null && e2e.p99 < 50;
console.log(`\nbar (>= ${values.fps} fps sustained, p99 capture-to-publish < 50 ms): ${ok ? 'MET' : 'NOT MET'}`);
