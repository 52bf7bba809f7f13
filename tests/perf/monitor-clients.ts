// N monitor clients for tests/perf/pipeline.bench.ts, in a process of their own (forked with
// an IPC channel), as browsers on other machines would be: each connects to the live
// service's WebSocket MQTT endpoint, subscribes to the frame topic and, per frame message,
// reads the header's capture time (the monitor decodes the rest; decoding it here would
// bill the box for work the browsers do). Messages from the parent: 'start' (begin
// counting), 'report' (reply with the figures), 'stop'.
import mqtt from 'mqtt';
import { wallNow } from '../../common/clock.js';

const [url, topic, countArg] = process.argv.slice(2);
const n = Number(countArg);
const send = (m: unknown) => process.send!(m);

interface Figures { received: number; latencies: number[]; firstId: number; lastId: number }
const clients = await Promise.all(Array.from({ length: n }, () => mqtt.connectAsync(url, { reconnectPeriod: 0 })));
const figures: Figures[] = clients.map(() => ({ received: 0, latencies: [], firstId: -1, lastId: -1 }));
let counting = false;
let cpu0 = process.cpuUsage();
clients.forEach((c, i) => {
  c.on('message', (_t, payload) => {
    if (!counting) return;
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const id = dv.getFloat64(8, true);
    const f = figures[i];
    f.received++;
    f.latencies.push(wallNow() - dv.getFloat64(16, true));
    if (f.firstId < 0) f.firstId = id;
    f.lastId = id;
  });
});
await Promise.all(clients.map((c) => c.subscribeAsync(topic)));
process.on('message', async (m: string) => {
  if (m === 'start') {
    counting = true;
    cpu0 = process.cpuUsage();
  } else if (m === 'report') {
    const cpu = process.cpuUsage(cpu0);
    send({ figures, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (m === 'stop') {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    process.exit(0);
  }
});
send('ready');
