// Benchmark (on demand, not part of npm test): `aunet run`'s live service in this process
// (capture thread, main thread, inference thread and its kernel threads) on a 30 fps phantom
// with the shipped busi-lite, the embedded broker and N WebSocket monitor clients in a
// process of their own (tests/perf/monitor-clients.ts). Prints fps published and received,
// drops, latency percentiles per stage and capture-to-publish (the live service's own stats,
// last 1024 frames), capture-to-client over all clients, CPU time per frame by thread
// (/proc), the main thread's event-loop utilisation and its GC pauses, with the CPU model,
// the date and the load average before and after; and, before and after, the host's peers: the
// model alone on one thread, two such engines at once, and the pipeline's own engine alone at the
// source's frame rate, whose p99 says whether this host can meet the latency bar at all.
//   node --import tsx tests/perf/pipeline.bench.ts [--seconds 20] [--clients 20] [--threads N]
//     [--engine chip|direct] [--model FILE|random:F8x128] [--fps 30] [--size 320x240] [--source SPEC]
//     [--heap-growth PERCENT] (the main heap's growth between full collections, in place of the
//     service's own, common/heap-growth.ts; 0 = V8's choice: for A/B runs)
import { cpus, loadavg, setPriority } from 'node:os';
import { fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { constants as perfConstants, performance, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { resolveConfig } from '../../contracts/run-config.js';
import { liveEngineRequest, LiveService } from '../../host/box/live-service.js';
import { LatencyWindow, type Percentiles } from '../../host/pipeline/stats.js';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
import { loadModel } from '../../host/load/model-loader.js';
import { loadEngine } from '../../host/load/engine-loader.js';
import { hostScaling } from '../../host/bench/host-scaling.js';
import { WorkerEngine } from '../../host/box/worker-engine.js';
import { syntheticFrames } from '../../models/random-model.js';
import { FRAMES_HEAP_GROWING_PERCENT, setHeapGrowth } from '../../common/heap-growth.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    clients: { type: 'string', default: '20' },
    threads: { type: 'string' },
    model: { type: 'string' },
    engine: { type: 'string', default: 'chip' },
    fps: { type: 'string', default: '30' },
    size: { type: 'string', default: '320x240' },
    source: { type: 'string' },
    'heap-growth': { type: 'string' },
  },
});
const model = values.model ?? (existsSync('models/busi-lite.aunet') ? 'models/busi-lite.aunet' : 'random:F8x128');
const seconds = parseNumber(values.seconds, '--seconds', { above: 0 });
const clientCount = parseInteger(values.clients, '--clients', { min: 0, max: 1000 });
const fps = parseNumber(values.fps, '--fps', { above: 0 });
const warmupFrames = 60;
const loadBefore = loadavg();

/**
 * The host's speed at the time: this model alone (direct engine, 1 kernel thread, no pipeline
 * around it), median ms per frame, measured before and after the run. A shared VM's speed drifts
 * by up to 1.6x within minutes, which the load average does not show; these two figures do.
 */
const { model: aloneModel } = await loadModel(model);
const aloneFrames = syntheticFrames(aloneModel.arch, 2, 1);
async function aloneMs(): Promise<number> {
  const choice = await loadEngine(aloneModel, { engine: 'direct', threads: 1 });
  const times: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    choice.engine.run(aloneFrames[i % 2]);
    if (i >= 10) times.push(performance.now() - t);
  }
  await choice.close();
  return times.sort((a, b) => a - b)[times.length >> 1];
}
const aloneBefore = await aloneMs();
// and what two cores give two independent 1-thread engines at the time (host/bench/host-scaling.ts):
// the 1-thread speed alone stayed at 23 ms while this moved, and the pipeline with it
const ceilingBefore = await hostScaling(2);
const config = resolveConfig({
  model,
  engine: values.engine,
  threads: parseInteger(values.threads, '--threads', { min: 1, max: 64 }),
  source: values.source ?? `phantom:?size=${values.size}&fps=${fps}&frames=0`,
  device: 'bench',
  broker: { port: 0, httpPort: 0 },
  pipeline: { warmupFrames },
  publish: { statsIntervalMs: 1000 },
});

/**
 * The pipeline's engine alone: the same model, engine and kernel threads in an inference thread of
 * their own, as `aunet run` starts them, given a frame every frame period (the next at once after
 * one that overran) with nothing else of ours running: no capture, broker, publishing or clients.
 * Its engine p99 is what this host gives the engine itself at the time (on the 2-vCPU VMs: about
 * twice its median); the pipeline's engine p99 above it is the pipeline's own cost.
 */
async function engineAlone(timed = Math.round(5 * fps)) {
  const engine = await WorkerEngine.start(aloneModel, liveEngineRequest(config));
  try {
    const ms: number[] = [];
    for (let i = 0; i < warmupFrames; i++) await engine.run(aloneFrames[i % 2].slice());
    const start = performance.now();
    for (let i = 0; i < timed; i++) {
      const wait = start + (i * 1000) / fps - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      ms.push((await engine.run(aloneFrames[i % 2].slice())).engineMs);
    }
    return LatencyWindow.of(ms)!;
  } finally {
    await engine.close();
  }
}
const engineBefore = await engineAlone();
const rt = await LiveService.start({ config, log: pino({ level: 'warn' }, pino.destination(2)), version: 'bench' });
// the service set its own growth; --heap-growth replaces it (A/B runs)
const heapGrowth = values['heap-growth'] === undefined ? FRAMES_HEAP_GROWING_PERCENT : parseInteger(values['heap-growth'], '--heap-growth', { min: 0, max: 1000 });
if (values['heap-growth'] !== undefined) setHeapGrowth(heapGrowth);

// the monitor clients: a process of their own, connected before the measurement starts
const clients = clientCount > 0
  ? fork(new URL('./monitor-clients.ts', import.meta.url), [rt.broker!.wsUrl, 'aunet/bench/frame', String(clientCount)], { execArgv: ['--import', 'tsx'] })
  : null;
// the browsers run elsewhere, not on the box: here they share its cores, so they yield to it
// (their capture-to-client figure then includes their own scheduling delay)
if (clients?.pid) setPriority(clients.pid, 19);
type ClientReport = { figures: { received: number; latencies: number[]; firstId: number; lastId: number }[]; cpuMs: number };
// a reply from the clients' process; its death (a failed connection) ends the benchmark with its status
let stopping = false;
clients?.on('exit', (code) => {
  if (!stopping) {
    console.error(`pipeline.bench: the monitor clients' process exited (status ${code}) before the end`);
    process.exit(1);
  }
});
const fromClients = <T>(what: string): Promise<T> => new Promise((resolve) => {
  clients!.once('message', (m) => resolve(m as T));
  if (what) clients!.send(what);
});
if (clients) await fromClients<string>('');

// CPU time of every thread of this process (Linux /proc: utime + stime in clock ticks)
const TICK_MS = 10;
function threadCpu(): Map<number, { name: string; ms: number }> {
  const out = new Map<number, { name: string; ms: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      out.set(Number(tid), { name, ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS });
    } catch { /* the thread ended */ }
  }
  return out;
}

while (rt.pipeline.stats.completed < warmupFrames) await new Promise((r) => setTimeout(r, 50));
let gcCount = 0, gcMs = 0, gcMax = 0, gcFull = 0;
const gc = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcMs += e.duration;
    gcMax = Math.max(gcMax, e.duration);
    if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gcFull++;
  }
});
gc.observe({ entryTypes: ['gc'] });
const t0 = performance.now();
const base = rt.pipeline.stats.framesOut;
const cpu0 = process.cpuUsage();
const threads0 = threadCpu();
const elu0 = performance.eventLoopUtilization();
clients?.send('start');
await new Promise((r) => setTimeout(r, seconds * 1000));
const report = clients ? await fromClients<ClientReport>('report') : null;
const elapsed = (performance.now() - t0) / 1000;
const published = rt.pipeline.stats.framesOut - base;
const cpuUsed = process.cpuUsage(cpu0);
const threads1 = threadCpu();
const elu = performance.eventLoopUtilization(elu0);
gc.disconnect();
const memory = process.memoryUsage();
const snap = rt.pipeline.stats.snapshot();
stopping = true;
clients?.send('stop');
await rt.stop();
const loadAfter = loadavg();
const aloneAfter = await aloneMs();
const ceilingAfter = await hostScaling(2);
const engineAfter = await engineAlone();

const perFrame = (ms: number) => (ms / Math.max(1, published)).toFixed(1);
const fmt = (p: Percentiles | null) => (p ? `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)} / ${p.max.toFixed(1)}` : '-');
const cpu = cpus();
console.log(`\n## pipeline benchmark ${new Date().toISOString()}`);
console.log(`machine: ${cpu.length} x ${cpu[0]?.model ?? '?'}, node ${process.version}, load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')}`);
console.log(`model ${rt.model.name}, engine ${rt.engine.kind}${rt.engine.fallback ? ' (fallback)' : ''}, ${rt.engine.threads} kernel thread(s), source ${config.source}, ${clientCount} monitor client(s) (their process at nice 19), ${seconds} s after ${warmupFrames} warm-up frames\n`);
console.log('| figure | value |');
console.log('| --- | --- |');
console.log(`| fps published (sustained) | ${(published / elapsed).toFixed(1)} |`);
if (report) {
  const rates = report.figures.map((f) => f.received / elapsed);
  console.log(`| fps received per monitor client, min / mean | ${Math.min(...rates).toFixed(1)} / ${(rates.reduce((a, b) => a + b, 0) / rates.length).toFixed(1)} |`);
}
console.log(`| frames dropped (source / late / inference / publish) | ${snap.frames.dropped.source} / ${snap.frames.dropped.late} / ${snap.frames.dropped.inference} / ${snap.frames.dropped.publish} |`);
for (const [k, v] of Object.entries(snap.latencyMs)) console.log(`| ${k} ms p50 / p99 / max | ${fmt(v)} |`);
const toClient = report ? LatencyWindow.of(report.figures.flatMap((f) => f.latencies)) : null;
console.log(`| capture to monitor client ms p50 / p99 / max (all clients) | ${fmt(toClient)} |`);
console.log(`| chip cycles per frame | ${snap.chip.cyclesPerFrame ?? '-'} |`);
console.log(`| process CPU ms per published frame (all threads) | ${perFrame((cpuUsed.user + cpuUsed.system) / 1000)} |`);
const deltas = [...threads1].map(([tid, t]) => ({ tid, name: t.name, ms: t.ms - (threads0.get(tid)?.ms ?? 0) })).filter((t) => t.ms > 0);
const main = deltas.find((t) => t.tid === process.pid);
console.log(`| main thread CPU ms per frame (broker, HTTP, post-processing, publishing) | ${main ? perFrame(main.ms) : '-'} |`);
console.log(`| other threads CPU ms per frame (capture and preprocessing, inference, kernel workers, libuv, V8) | ${deltas.filter((t) => t !== main).sort((a, b) => b.ms - a.ms).map((t) => `${t.name} ${perFrame(t.ms)}`).join(', ')} |`);
console.log(`| main thread busy (event-loop utilisation) | ${(elu.utilization * 100).toFixed(0)} % |`);
console.log(`| main thread GC: pauses (full collections), total ms per second, longest ms | ${gcCount} (${gcFull}), ${(gcMs / elapsed).toFixed(1)}, ${gcMax.toFixed(1)} |`);
const mib = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(`| main heap growth between full collections; at the end: main heap used / committed, process RSS (MiB) | ${heapGrowth ? `${heapGrowth} %` : "V8's own"}; ${mib(memory.heapUsed)} / ${mib(memory.heapTotal)}, ${mib(memory.rss)} |`);
console.log(`| the host's speed: this model alone (direct engine, 1 thread, no pipeline), median ms per frame before / after | ${aloneBefore.toFixed(1)} / ${aloneAfter.toFixed(1)} |`);
console.log(`| the host's 2-core ceiling: work of 2 independent 1-thread engines at once, in units of one alone, before / after | ${ceilingBefore.toFixed(2)} / ${ceilingAfter.toFixed(2)} |`);
console.log(`| the same engine alone (its threads, ${fps} frames a second, nothing else of ours running): engine ms p50 / p99 / max, before; after | ${fmt(engineBefore)}; ${fmt(engineAfter)} |`);
if (report) console.log(`| monitor clients' process CPU ms per frame (not the box's work: browsers elsewhere) | ${perFrame(report.cpuMs)} |`);
const e2e = snap.latencyMs.endToEnd;
const period = 1000 / fps;
const ok = published / elapsed >= fps * 0.97 && e2e !== null && e2e.p99 <= period;
const hostMisses = Math.max(engineBefore.p99, engineAfter.p99) > period;
console.log(`\nbar (>= ${fps} fps published, p99 capture-to-publish <= ${period.toFixed(1)} ms, ${clientCount} clients): ${ok ? 'MET' : 'NOT MET'}` +
  (!ok && hostMisses ? ` (the engine alone, with no pipeline around it, had p99 ${engineBefore.p99.toFixed(1)} / ${engineAfter.p99.toFixed(1)} ms before / after: over one frame period on this host at the time)` : ''));
