// The engine in its own thread (aunet run): the same results as on the main thread, at 1
// and 2 kernel threads, through both engines; the frame's buffer is transferred (not
// copied) and handed back with the result; an engine error reaches the caller with its code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerEngine } from '../../../host/box/worker-engine.js';
import { loadEngine } from '../../../host/load/engine-loader.js';
import { createWasmKernels } from '../../../host/kernels/wasm-kernels.js';
import { randomQModel } from '../../../models/random-qmodel.js';
import { syntheticFrames } from '../../../models/random-model.js';
import { AunetError } from '../../../common/errors.js';

const arch = { filters: 4, height: 64, width: 48, channels: 1 };
const model = randomQModel(arch, { seed: 61 });
const frames = syntheticFrames(arch, 3, 2);

test('worker engine == main-thread engine, chip and direct, 1 and 2 kernel threads; buffers travel, not copies', async () => {
  for (const kind of ['chip', 'direct'] as const) {
    const request = { engine: kind, chip: 'default', fallbackToDirect: false };
    const inline = (await loadEngine(model, { ...request, kernels: () => createWasmKernels({ build: 'simd' }) })).engine;
    for (const threads of [1, 2]) {
      const w = await WorkerEngine.start(model, { ...request, threads });
      assert.equal(w.choice.threads, threads);
      try {
        assert.equal(w.choice.kind, kind);
        for (const f of frames) {
          const want = inline.run(f);
          const input = f.slice();
          const pending = w.run(input);
          assert.equal(input.byteLength, 0, 'the frame buffer was transferred to the thread');
          const got = await pending;
          assert.deepEqual(got.input, f, 'the frame comes back with the result');
          assert.deepEqual(got.prob, want.prob, `${kind} ${threads} thread(s): prob`);
          assert.deepEqual(got.mask, want.mask);
          assert.deepEqual(got.attention, want.attention);
          assert.equal(got.cycles, want.cycles);
        }
      } finally {
        await w.close();
      }
    }
  }
});

test('a frame of the wrong size rejects with the engine error and its code; the engine keeps running', async () => {
  const w = await WorkerEngine.start(model, { engine: 'direct', fallbackToDirect: false, threads: 1 });
  try {
    await assert.rejects(w.run(new Uint8Array(10)), (e: unknown) => e instanceof AunetError && e.code === 'BAD_FRAME_SIZE');
    const r = await w.run(frames[0].slice());
    assert.equal(r.prob.data.length, arch.width * arch.height);
  } finally {
    await w.close();
  }
});
