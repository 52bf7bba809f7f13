// The threaded kernels: every call divided over 1, 2 and 3 threads (each thread its own
// instance and scratch over one shared memory) gives the reference's bytes, for whole
// networks with odd sizes through both engines (the chip's tiles spread over the threads,
// and divided call by call), for calls of every kernel split even when tiny, and for DMA
// boxes divided wherever their parts cannot touch each other's bytes; a kernel
// error in any thread surfaces as the same WasmKernelError.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createThreadedKernels, type ThreadedKernelSet } from '../../../host/kernels/threaded-kernels.js';
import { createReferenceKernels } from '../../../host/kernels/reference/index.js';
import { createWasmKernels, WasmKernelError } from '../../../host/kernels/wasm-kernels.js';
import { createDirectEngine } from '../../../host/engine/direct-executor.js';
import { createChipEngine } from '../../../host/chip/chip-engine.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { syntheticFrames } from '../../../models/random-model.js';
import { partCount, ranges, splitCall } from '../../../host/kernels/kernel-split.js';
import type { KernelSet } from '../../../host/kernels/kernel-set.js';
import { firstDiff, randomBox } from './harness.js';
import { Rng } from './rng.js';

const sets: ThreadedKernelSet[] = [];
after(async () => { await Promise.all(sets.map((s) => s.close())); });
async function threaded(threads: number, minSplitWork?: number): Promise<ThreadedKernelSet> {
  const s = await createThreadedKernels({ threads, minSplitWork });
  sets.push(s);
  return s;
}

test('ranges: balanced, aligned, covering', () => {
  assert.deepEqual(ranges(10, 3), [[0, 3], [3, 7], [7, 10]]);
  assert.deepEqual(ranges(2, 3), [[0, 1], [1, 2]]);
  assert.deepEqual(ranges(7, 2, 2), [[0, 4], [4, 7]]);
  assert.deepEqual(ranges(100, 2, 16), [[0, 48], [48, 100]]);
  assert.deepEqual(splitCall('lut', [0, 100, 512, 1024], 2), [[0, 48, 512, 1024], [48, 52, 512, 1072]]);
  // work in conv-MAC equivalents: the gate's add of 64x64x16 values is divided, a 16x16x16 max-pool is not
  assert.equal(partCount('add', [0, 0, 64 * 64 * 16, 0, 0, 20, 1 << 30, 1, 1 << 30, 1, 1 << 30, 1, 0, -128, 127, 0], 2), 8);
  assert.equal(partCount('maxpool2x2', [0, 16, 16, 16, 0], 2), 1);
  // 11 output rows of a 3x3 conv on 2 threads: stride 1 with cin a multiple of 8 splits at whole tile
  // rows of its Winograd path (4 rows of F(4x4, 3x3)), the direct kernel (stride 2, or cin 12) evenly
  const conv = (stride: number, inH: number, cin = 8) => [0, inH, 64, cin, 0, 40960, 11, 64, 8, 8, stride, 1, 1, 0, 0, 0, 0, 0, -128, 127, 0, 0, 0];
  assert.deepEqual(splitCall('conv3x3', conv(1, 11), 2).map((p) => p[6]), [4, 7]);
  assert.deepEqual(splitCall('conv3x3', conv(1, 11, 12), 2).map((p) => p[6]), [6, 5]);
  assert.deepEqual(splitCall('conv3x3', conv(2, 22), 2).map((p) => p[6]), [6, 5]);
  // a deep layer (packed weights outweigh the 4x4x64 input): output channels in groups of 4, each part its own weights and params, 32 channels or more each
  const perChannel = 36 * 64 * 2; // F(4x4, 3x3) weights of one output channel
  const deepArgs = (cout: number) => [0, 4, 4, 64, 0, 1024, 4, 4, cout, cout, 1, 1, 1, 10000, 20000, 30000, 40000, 0, -128, 127, 0, 0, 0];
  const deep = (cout: number) => splitCall('conv3x3', deepArgs(cout), 3);
  assert.deepEqual(deep(128).map((p) => [p[5], p[9], p[13], p[14]]), [[1024, 44, 10000, 20000], [1068, 40, 10000 + 44 * perChannel, 20176], [1108, 44, 10000 + 84 * perChannel, 20336]]);
  assert.deepEqual(deep(64).map((p) => p[9]), [32, 32]);
  // ... into one part per thread (each transforms the whole input again), where rows get PARTS_PER_THREAD each
  assert.equal(partCount('conv3x3', deepArgs(128), 2), 2);
  assert.equal(partCount('conv3x3', deepArgs(128), 3), 3);
  // weights under CHANNEL_SPLIT_RATIO times the input (32x32x64, 64 channels: 3.6x): rows, each part all 64 channels
  const mediumArgs = [0, 32, 32, 64, 0, 1024, 32, 32, 64, 64, 1, 1, 1, 10000, 20000, 30000, 40000, 0, -128, 127, 0, 0, 0];
  const medium = splitCall('conv3x3', mediumArgs, 2);
  assert.deepEqual(medium.map((p) => [p[6], p[9]]), [[16, 64], [16, 64]]);
  assert.equal(partCount('conv3x3', mediumArgs, 2), 8);
  // DMA boxes: over the outer runs, else the inner runs, else bytes of the one run (64-byte aligned)
  assert.deepEqual(splitCall('copyBox', [0, 5000, 3, 100, 40, 4, 10, 10, 8], 2), [[0, 5000, 2, 100, 40, 4, 10, 10, 8], [200, 5080, 1, 100, 40, 4, 10, 10, 8]]);
  assert.deepEqual(splitCall('copyBox', [0, 5000, 1, 0, 0, 4, 10, 8, 8], 2), [[0, 5000, 1, 0, 0, 2, 10, 8, 8], [20, 5016, 1, 0, 0, 2, 10, 8, 8]]);
  assert.deepEqual(splitCall('copyBox', [0, 5000, 1, 0, 0, 1, 0, 0, 1000], 3), [[0, 5000, 1, 0, 0, 1, 0, 0, 320], [320, 5320, 1, 0, 0, 1, 0, 0, 320], [640, 5640, 1, 0, 0, 1, 0, 0, 360]]);
  // whole where parts could touch each other's bytes: source and destination spans overlapping,
  // runs overlapping at the destination (inner, or a row of runs past the next row), nothing to move
  for (const box of [[0, 500, 1, 0, 0, 1, 0, 0, 1000], [1000, 0, 1, 0, 0, 1, 0, 0, 1001], [0, 5000, 1, 0, 0, 4, 10, 4, 8], [0, 5000, 3, 100, 30, 4, 10, 8, 8], [0, 5000, 0, 0, 0, 1, 0, 0, 8]]) {
    assert.deepEqual(splitCall('copyBox', box, 2), [box], box.join(','));
  }
  assert.equal(partCount('copyBox', [0, 1 << 20, 1, 0, 0, 1, 0, 0, 1 << 20], 2), 8);
  assert.equal(partCount('copyBox', [0, 1 << 20, 1, 0, 0, 1, 0, 0, 1 << 18], 2), 2);
  assert.equal(partCount('copyBox', [0, 1 << 20, 1, 0, 0, 1, 0, 0, 100000], 2), 1);
});

test('DMA boxes, every one divided where its parts cannot touch: 2 and 3 threads equal the reference', async () => {
  const rng = new Rng(44);
  const bytes = 4096;
  const ref = createReferenceKernels();
  for (const threads of [2, 3]) {
    const ks = await threaded(threads, 0);
    ks.ensureHeap(bytes);
    ref.ensureHeap(bytes);
    for (let k = 0; k < 300; k++) {
      const memory = rng.int8(bytes);
      const [src, dst, ...rest] = randomBox(rng, bytes);
      const run = (set: KernelSet) => {
        new Int8Array(set.heap, 0, bytes).set(memory);
        set.copyBox(src, dst, ...rest);
        return new Uint8Array(set.heap, 0, bytes).slice();
      };
      assert.equal(firstDiff(run(ref), run(ks), 1), null, `${threads} threads, box ${[src, dst, ...rest].join(',')}`);
    }
  }
});

test('whole networks, odd sizes, every call split: 1, 2 and 3 threads equal the reference byte for byte', async () => {
  // F 3 at 48x80: odd channel counts, partial channel groups, rows that split unevenly
  const arch = { filters: 3, height: 48, width: 80, channels: 3 };
  const model = randomQModel(arch, { seed: 41 });
  const frames = syntheticFrames(arch, 2, 4);
  const ref = createDirectEngine(model, createReferenceKernels());
  const want = frames.map((f) => ref.run(f));
  for (const threads of [1, 2, 3]) {
    const ks = await threaded(threads, 0);
    const direct = createDirectEngine(model, ks);
    // tiles spread over the threads where they can overlap (tile-scheduler.ts), or every call divided
    const chip = createChipEngine(model, ks, { chip: 'nv_small', sramBytes: 16384 });
    const divided = createChipEngine(model, ks, { chip: 'nv_small', sramBytes: 16384, spreadTiles: false });
    // channel-grouped convs: the whole layer at its first COMPUTE (group-ahead.ts), or each group on its own
    const perGroup = createChipEngine(model, ks, { chip: 'nv_small', sramBytes: 16384, groupsAhead: false });
    if (threads > 1) assert.ok(chip.machine.spreadLayers >= 10, `${chip.machine.spreadLayers} layers spread`);
    assert.equal(divided.machine.spreadLayers, 0);
    assert.ok(chip.machine.aheadLayers >= 2, `${chip.machine.aheadLayers} layers done ahead`);
    assert.equal(perGroup.machine.aheadLayers, 0);
    frames.forEach((f, i) => {
      for (const [what, r] of [['direct', direct.run(f)], ['chip', chip.run(f)], ['chip, calls divided', divided.run(f)], ['chip, each group on its own', perGroup.run(f)]] as const) {
        assert.deepEqual(r.prob.data, want[i].prob.data, `${what} prob, ${threads} threads, frame ${i}`);
        r.attention.forEach((a, k) => assert.deepEqual(a.data, want[i].attention[k].data, `${what} a${k + 1}, ${threads} threads`));
      }
    });
    // the layers that can spread their tiles time both ways in the first frames (those above ran one
    // each) and keep one (layer-choice.ts): whichever they keep, the result is the same
    for (let i = 0; i < 8; i++) chip.run(frames[i % 2]);
    const ways = chip.machine.layerWays();
    assert.equal(ways.timing, 0, `${threads} threads: ${JSON.stringify(ways)}`);
    assert.equal(ways.spread + ways.inOrder, threads > 1 ? chip.machine.spreadLayers : 0);
    assert.deepEqual(chip.run(frames[1]).prob.data, want[1].prob.data, `chip after its layers chose, ${threads} threads`);
  }
});

test('the default split threshold: a larger network on 2 threads equals one thread', async () => {
  const arch = { filters: 8, height: 96, width: 112, channels: 1 };
  const model = randomQModel(arch, { seed: 42 });
  const f = syntheticFrames(arch, 1, 5)[0];
  const want = createDirectEngine(model, createWasmKernels({ build: 'simd' })).run(f);
  const got = createDirectEngine(model, await threaded(2)).run(f);
  assert.deepEqual(got.prob.data, want.prob.data);
  assert.deepEqual(got.attention.map((a) => a.data), want.attention.map((a) => a.data));
});

test('a kernel error in a worker thread throws the WasmKernelError, and the set stays usable', async () => {
  const ks = await threaded(2, 0);
  ks.ensureHeap(1 << 16);
  // actMin > actMax: every part rejects it, the workers' too
  assert.throws(() => ks.gateMul(0, 64, 8, 8, 4, 0, 1 << 30, 0, 0, 10, -10, 4096),
    (e: unknown) => e instanceof WasmKernelError && /gateMul: activation range/.test(e.message));
  new Int8Array(ks.heap).set([1, 9, 3, 4, 5, 6, 7, 8], 0);
  ks.maxpool2x2(0, 2, 4, 1, 16);
  assert.deepEqual([...new Int8Array(ks.heap, 16, 2)], [9, 8]);
});

test('loadEngine threads: 1, 2 and 3 kernel threads through both engines give the same bytes; bad counts are usage errors', async () => {
  const { loadEngine } = await import('../../../host/load/engine-loader.js');
  const { UsageError } = await import('../../../common/errors.js');
  const arch = { filters: 3, height: 48, width: 80, channels: 1 };
  const model = randomQModel(arch, { seed: 43 });
  const f = syntheticFrames(arch, 1, 6)[0];
  const want = createDirectEngine(model, createReferenceKernels()).run(f);
  for (const threads of [1, 2, 3]) {
    for (const engine of ['direct', 'chip'] as const) {
      const loaded = await loadEngine(model, { engine, threads, chip: 'nv_small', sramBytes: 16384 });
      try {
        assert.equal(loaded.threads, threads);
        assert.match(loaded.engine.name, threads > 1 ? /wasm-simd-threads/ : /wasm-(relaxed-)?simd$/);
        const r = loaded.engine.run(f);
        assert.deepEqual(r.prob.data, want.prob.data, `${engine}, ${threads} threads`);
        assert.deepEqual(r.attention.map((a) => a.data), want.attention.map((a) => a.data));
      } finally {
        await loaded.close();
      }
    }
  }
  await assert.rejects(loadEngine(model, { threads: 2, kernels: 'reference' }), (e: unknown) => e instanceof UsageError && /--threads: 2 threads need the WebAssembly kernels/.test(e.message));
  await assert.rejects(loadEngine(model, { threads: 0 }), /--threads: must be an integer 1\.\.64, not 0/);
  // the default (AUNET_THREADS=1 in npm test) and the reference kernels run on one thread
  assert.equal((await loadEngine(model, { kernels: 'reference' })).threads, 1);
  // a threaded set the caller made (a box image's module) reports its threads; the caller closes it
  const own = await threaded(2, 0);
  assert.equal((await loadEngine(model, { engine: 'chip', kernels: own })).threads, 2);
});

test('defaultThreads: AUNET_THREADS when set, else one per core', async () => {
  const { defaultThreads } = await import('../../../common/thread-count.js');
  const { availableParallelism } = await import('node:os');
  const saved = process.env.AUNET_THREADS;
  try {
    process.env.AUNET_THREADS = '3';
    assert.equal(defaultThreads(), 3);
    process.env.AUNET_THREADS = '1000';
    assert.equal(defaultThreads(), 64);
    delete process.env.AUNET_THREADS;
    assert.equal(defaultThreads(), availableParallelism());
  } finally {
    if (saved === undefined) delete process.env.AUNET_THREADS;
    else process.env.AUNET_THREADS = saved;
  }
});

test('divided calls whose part counts change from call to call, and posts joined or taken back: every byte right, nothing lost or run twice (child process, killed if it hangs)', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { fileURLToPath } = await import('node:url');
  const { availableParallelism } = await import('node:os');
  const script = fileURLToPath(new URL('./divide-stress.ts', import.meta.url));
  // with busy threads beside it, the workers often start late and joins take posts back
  // hold: workers held up between reading a post and claiming it, while this thread takes posts back
  // and posts again (an exchange-based claim ran the slot's newer calls twice there: 3 of 3 runs failed)
  for (const [threads, calls, hogs, hold] of [[2, 30000, 0, 0], [3, 30000, 0, 0], [2, 20000, 2 * availableParallelism(), 0], [3, 10000, 0, 0.05]]) {
    // a hang is a doubled part count (the caller waits for one more completion than there are parts) or a post nobody runs
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, String(threads), String(calls), String(hogs), String(hold)], { timeout: 90_000 })
      .catch((e: { killed?: boolean; stderr?: string }) => assert.fail(e.killed ? `${threads} threads: hung (killed after 90 s)` : `${threads} threads: ${e.stderr}`));
    const m = new RegExp(`^ok ${calls} calls on ${threads} threads; (\\d+) posts taken back`).exec(stdout);
    assert.ok(m, stdout);
    if (hogs) assert.ok(Number(m[1]) > 0, `no post was taken back with ${hogs} busy threads: ${stdout}`);
  }
});
