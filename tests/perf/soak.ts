// Soak test (on demand, not part of npm test): memory stays flat over a long
// run. The live service replays the phantom as fast as possible (every frame through
// preprocessing, the chip engine, post-processing, the embedded broker and a
// WebSocket subscriber); RSS after 10 000 frames must be within 10 % of RSS
// after 1 000. Exit code 1 when it is not.
//   node --expose-gc --import tsx tests/perf/soak.ts [--frames 10000] [--model FILE|random:F8x128] [--size 320x240]
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { resolveConfig } from '../../contracts/run-config.js';
import { LiveService } from '../../host/box/live-service.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '10000' },
    first: { type: 'string', default: '1000' },
    model: { type: 'string' },
    size: { type: 'string', default: '320x240' },
    engine: { type: 'string', default: 'chip' },
  },
});
const total = Number(values.frames);
const first = Number(values.first);
const model = values.model ?? (existsSync('models/busi-lite.aunet') ? 'models/busi-lite.aunet' : 'random:F8x128');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('run with node --expose-gc for stable RSS figures');

const config = resolveConfig({
  model,
  engine: values.engine,
  source: `phantom:?size=${values.size}&frames=0`,
  device: 'soak',
  broker: { port: 0, httpPort: 0 },
  pipeline: { realtime: false, warmupFrames: 30 },
});
const rt = await LiveService.start({ config, log: pino({ level: 'warn' }, pino.destination(2)), version: 'soak' });
const sub = await mqtt.connectAsync(rt.broker!.wsUrl);
let received = 0;
sub.on('message', () => received++);
await sub.subscribeAsync(['aunet/soak/status', 'aunet/soak/frame', 'aunet/soak/stats']); // anonymous: the viewer topics by name

const mb = (n: number) => (n / 2 ** 20).toFixed(1);
const measure = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
};
const t0 = performance.now();
const marks: { frames: number; rss: number; heap: number; external: number; s: number }[] = [];
let next = first;
let lastPrint = 0;
while (rt.pipeline.stats.framesOut < total) {
  await new Promise((r) => setTimeout(r, 200));
  const out = rt.pipeline.stats.framesOut;
  if (out >= next) {
    marks.push({ frames: out, ...measure(), s: (performance.now() - t0) / 1000 });
    next = next === first ? Math.max(first * 2, 2000) : next + 2000;
  }
  if (performance.now() - lastPrint > 10_000) {
    lastPrint = performance.now();
    const m = process.memoryUsage();
    process.stderr.write(`${out}/${total} frames, ${(out / ((performance.now() - t0) / 1000)).toFixed(1)} fps, rss ${mb(m.rss)} MiB\n`);
  }
}
if (marks.at(-1)?.frames !== rt.pipeline.stats.framesOut) marks.push({ frames: rt.pipeline.stats.framesOut, ...measure(), s: (performance.now() - t0) / 1000 });
const snap = rt.pipeline.stats.snapshot();
await sub.endAsync();
await rt.stop();

const cpu = cpus();
console.log(`\n## soak ${new Date().toISOString()}`);
console.log(`machine: ${cpu.length} x ${cpu[0]?.model ?? '?'}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`model ${rt.model.name}, engine ${rt.engine.kind}, source ${config.source} (as fast as possible), subscriber received ${received} messages\n`);
console.log('| frames published | after s | RSS MiB | JS heap MiB | external + ArrayBuffers MiB |');
console.log('| --- | --- | --- | --- | --- |');
for (const m of marks) console.log(`| ${m.frames} | ${m.s.toFixed(0)} | ${mb(m.rss)} | ${mb(m.heap)} | ${mb(m.external)} |`);
const a = marks[0];
const b = marks[marks.length - 1];
const growth = (b.rss - a.rss) / a.rss;
console.log(`\nRSS after ${b.frames} frames vs after ${a.frames}: ${(growth * 100).toFixed(1)} % (bar: within 10 %); dropped ${JSON.stringify(snap.frames.dropped)}`);
process.exitCode = Math.abs(growth) <= 0.1 ? 0 : 1;
