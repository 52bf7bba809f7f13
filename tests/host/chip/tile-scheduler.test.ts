// The tile scheduler (host/chip/tile-scheduler.ts): dependencies from the SRAM buffers each
// instruction reads and writes, as the timing model derives them (tiles writing one resident
// tensor unordered among themselves, whatever reads it after them waiting for all); and a
// run over fake worker threads that start every step once, never before what it depends on,
// keep DMA copies in stream order, and surface a worker's failure after every worker is joined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerDependencies, TileScheduler, type LayerStep } from '../../../host/chip/tile-scheduler.js';
import type { Instr } from '../../../host/chip/instructions.js';
import type { KernelCall } from '../../../host/kernels/kernel-calls.js';
import type { ThreadedKernelSet } from '../../../host/kernels/threaded-kernels.js';

const load = (buf: number) => ({ op: 'LOAD', reads: [], writes: [buf] }) as unknown as Instr;
const store = (buf: number) => ({ op: 'STORE', reads: [buf], writes: [] }) as unknown as Instr;
const compute = (reads: number[], out: number) => ({ op: 'COMPUTE', reads, writes: [out] }) as unknown as Instr;

// a double-buffered layer: params P0, inputs 2/3, outputs 8/9, tile n+1's input loaded ahead
const doubleBuffered: Instr[] = [
  load(0), load(2), load(3), compute([2, 0], 8), store(8), load(2), compute([3, 0], 9), store(9), load(3), compute([2, 0], 8), store(8), compute([3, 0], 9), store(9),
];

test('dependencies: read after write, write after read, and tiles of one resident tensor unordered', () => {
  // reloading an input buffer waits for the tile that read it (and its earlier load); a tile
  // writing an output buffer waits for the store of its previous contents (and that tile)
  assert.deepEqual(layerDependencies(doubleBuffered), [
    [], [], [], [0, 1], [3], [1, 3], [0, 2], [6], [2, 6], [0, 3, 4, 5], [9], [0, 6, 7, 8], [11],
  ]);
  // three tiles into resident tensor 100, then a SPILL of it: the SPILL waits for all three
  const resident: Instr[] = [load(2), compute([2], 100), load(3), compute([3], 100), load(2), compute([2], 100), { op: 'SPILL', reads: [100], writes: [] } as unknown as Instr];
  const deps = layerDependencies(resident);
  assert.deepEqual(deps[3], [2], 'the second tile does not wait for the first');
  assert.deepEqual(deps[4], [0, 1], 'reloading buffer 2 waits for the first tile that read it');
  assert.deepEqual(deps[5], [4], 'the third tile waits only for its load');
  assert.deepEqual(deps[6], [1, 3, 5]);
});

/** Fake workers: a posted step runs when the scheduler joins it (or finds it done on the second look). */
function fakeSpread(workers: number, log: number[], failOn = -1) {
  const onWorker: ({ id: number; looks: number } | null)[] = Array(workers).fill(null);
  const busy = () => onWorker.filter(Boolean).length;
  // most COMPUTEs in flight at once (posted and not joined, plus one running here)
  let overlap = 0;
  const finish = (i: number) => {
    const job = onWorker[i]!;
    onWorker[i] = null;
    log.push(job.id);
    if (job.id === failOn) throw new Error(`step ${job.id} failed`);
  };
  const spread: ThreadedKernelSet['spread'] = {
    local: new Proxy({}, {
      get: () => (id: number) => {
        overlap = Math.max(overlap, busy() + 1);
        log.push(id);
      },
    }) as ThreadedKernelSet['spread']['local'],
    // a call divided over every thread: logged as -1 - id
    divided: new Proxy({}, {
      get: () => (id: number) => {
        assert.equal(busy(), 0, 'a divided call while a worker is busy');
        log.push(-1 - id);
      },
    }) as ThreadedKernelSet['spread']['divided'],
    post(i, calls) {
      assert.equal(onWorker[i], null, `worker ${i} posted to while busy`);
      onWorker[i] = { id: calls[0].args[0], looks: 0 };
      overlap = Math.max(overlap, busy());
    },
    done: (i) => onWorker[i] === null || ++onWorker[i]!.looks > 1,
    join(i) {
      if (onWorker[i]) finish(i);
    },
    fits: () => true,
    pieces: (calls) => [[...calls]],
    takenBack: () => 0,
  };
  return { spread, busy, overlap: () => overlap };
}

function steps(instrs: Instr[], log: number[]): LayerStep[] {
  return instrs.map((ins, id) => (ins.op === 'COMPUTE' ? { calls: [{ kernel: 'lut', args: [id] } satisfies KernelCall] } : { dma: () => void log.push(id) }));
}

test('a run over 1 and 2 fake workers: every step once, after its dependencies, DMA copies in order', () => {
  const deps = layerDependencies(doubleBuffered);
  for (const workers of [1, 2]) {
    const log: number[] = [];
    const f = fakeSpread(workers, log);
    const s = new TileScheduler(steps(doubleBuffered, log), deps, f.spread, workers);
    for (let frame = 0; frame < 2; frame++) {
      log.length = 0;
      s.run();
      const ids = log.map((x) => (x < 0 ? -1 - x : x));
      assert.deepEqual([...ids].sort((a, b) => a - b), doubleBuffered.map((_, i) => i), 'every step exactly once');
      ids.forEach((id, at) => deps[id].forEach((d) => assert.ok(ids.indexOf(d) < at, `step ${id} ran before its dependency ${d}`)));
      const dmas = ids.filter((id) => doubleBuffered[id].op !== 'COMPUTE');
      assert.deepEqual(dmas, [...dmas].sort((a, b) => a - b), 'DMA copies in stream order');
      assert.equal(f.busy(), 0);
    }
    // two tiles computed at once: on a worker and here (1 worker), or on both workers
    assert.equal(f.overlap(), 2, `tiles overlapped: ${log.join(' ')}`);
  }
});

test('the last tile, with every worker idle, runs divided over all the threads', () => {
  // three tiles into one resident tensor, then a SPILL of it
  const resident: Instr[] = [load(2), compute([2], 100), load(3), compute([3], 100), load(4), compute([4], 100), { op: 'SPILL', reads: [100], writes: [] } as unknown as Instr];
  const log: number[] = [];
  const f = fakeSpread(1, log);
  new TileScheduler(steps(resident, log), layerDependencies(resident), f.spread, 1).run();
  assert.deepEqual(log, [0, 2, 1, 4, 3, -6, 6], 'tiles 1 and 3 on the worker, the loads meanwhile, tile 5 divided, then the SPILL');
});

test('a tile whose successor waits for it runs divided: weights reloaded into the buffer it reads', () => {
  // spatial-outer: one input tile, each channel group's weights loaded into buffer 0 in turn, all
  // into resident tensor 100; a worker would run each tile whole while this thread waits for it
  const serial: Instr[] = [load(2), load(0), compute([2, 0], 100), load(0), compute([2, 0], 100), load(0), compute([2, 0], 100), { op: 'SPILL', reads: [100], writes: [] } as unknown as Instr];
  const log: number[] = [];
  const f = fakeSpread(1, log);
  new TileScheduler(steps(serial, log), layerDependencies(serial), f.spread, 1).run();
  assert.deepEqual(log, [0, 1, -3, 3, -5, 5, -7, 7], 'every tile divided, each reload after it');
});

test('a tile run here goes a piece at a time, and a worker that finishes meanwhile gets the next tile before its last piece', () => {
  // six tiles double-buffered; each tile's calls cut into 3 pieces (logged as 1000 * id + piece)
  const six: Instr[] = [load(0), load(2), load(3)];
  for (let t = 0; t < 6; t++) six.push(compute([2 + (t % 2), 0], 8 + (t % 2)), store(8 + (t % 2)), ...(t < 4 ? [load(2 + (t % 2))] : []));
  const deps = layerDependencies(six);
  const log: number[] = [];
  const f = fakeSpread(1, log);
  const withPieces: LayerStep[] = steps(six, log).map((s, id) => ('calls' in s ? { ...s, pieces: [0, 1, 2].map((k) => [{ kernel: 'lut', args: [1000 * id + k] } satisfies KernelCall]) } : s));
  new TileScheduler(withPieces, deps, f.spread, 1).run();
  // where each step ran: whole (its id, or -1 - id divided) or its pieces, in order
  const at = new Map<number, number[]>();
  log.forEach((x, pos) => {
    const id = x >= 1000 ? Math.floor(x / 1000) : x < 0 ? -1 - x : x;
    at.set(id, [...(at.get(id) ?? []), pos]);
    if (x >= 1000) assert.equal(x % 1000, at.get(id)!.length - 1, `pieces of step ${id} in order`);
  });
  assert.deepEqual([...at.keys()].sort((a, b) => a - b), six.map((_, i) => i), 'every step ran');
  for (const [id, pos] of at) {
    assert.ok(pos.length === 1 || pos.length === 3, `step ${id} ran once, whole or in its 3 pieces`);
    deps[id].forEach((d) => assert.ok(Math.max(...at.get(d)!) < pos[0], `step ${id} started before its dependency ${d} ended`));
  }
  const pieced = [...at].filter(([, pos]) => pos.length === 3);
  assert.ok(pieced.length >= 2, `tiles run here in pieces: ${log.join(' ')}`);
  assert.ok(pieced.some(([, pos]) => pos[2] - pos[0] > 2), `something ran between a tile's pieces: ${log.join(' ')}`);
});

test("a worker's failure is thrown once every worker is joined", () => {
  const log: number[] = [];
  const f = fakeSpread(1, log, 3);
  const s = new TileScheduler(steps(doubleBuffered, log), layerDependencies(doubleBuffered), f.spread, 1);
  assert.throws(() => s.run(), /step 3 failed/);
  assert.equal(f.busy(), 0);
});
