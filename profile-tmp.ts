// per-layer profile of a .aunet at N threads (direct engine): median over rounds
import { loadModel } from './host/load/model-loader.ts';
import { loadEngine } from './host/load/engine-loader.ts';
import { cpus, loadavg } from 'node:os';
const m = await loadModel(process.argv[2] ?? 'models/busi-lite.aunet');
const t = Number(process.argv[3] ?? 1);
const arch = m.model.arch;
const input = new Uint8Array(arch.height * arch.width * arch.channels).map((_, i) => (i * 7919) & 255);
const { engine } = await loadEngine(m.model, { engine: 'direct', threads: t });
const e: any = engine;
for (let i = 0; i < Number(process.env.WARM ?? 30); i++) e.run(input);
const n = e.steps.length; const rounds: number[][] = [];
for (let r = 0; r < Number(process.env.ROUNDS ?? 40); r++) { const times = new Array(n).fill(0); e.runProfiled(input, times); rounds.push(times); }
const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
let tot = 0; const rows: [string, number][] = [];
for (let i = 0; i < n; i++) { const v = med(rounds.map((r) => r[i])); tot += v; rows.push([`${e.steps[i].name ?? i} ${e.steps[i].kind ?? ''}`, v]); }
console.log(cpus()[0].model, 'load', loadavg().map((x) => x.toFixed(1)).join(' '), 'threads', t);
for (const [name, v] of rows) console.log(name.padEnd(28), v.toFixed(3));
const byKind: Record<string, number> = {};
for (let i = 0; i < n; i++) { const k = e.steps[i].kind ?? '?'; byKind[k] = (byKind[k] ?? 0) + med(rounds.map((r) => r[i])); }
console.log('sum', tot.toFixed(2), JSON.stringify(Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, +v.toFixed(2)]))));
await (engine as any).close?.();
