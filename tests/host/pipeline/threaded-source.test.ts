// The capture thread told the model's input: each frame arrives with the bytes camera/preprocess.ts
// makes on this thread from the same pixels, and the pipeline infers on those instead of
// preprocessing again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from '../../../camera/frame.js';
import { preprocess } from '../../../camera/preprocess.js';
import type { Engine, InferenceResult } from '../../../host/engine/engine.js';
import { Pipeline } from '../../../host/pipeline/pipeline.js';
import { ThreadedSource, type FramePreparation } from '../../../host/pipeline/threaded-source.js';
import { decodeFrameMessage, type FrameMessage } from '../../../contracts/frame-message.js';

test('frames come preprocessed from the capture thread, byte for byte as on this thread', { timeout: 30_000 }, async () => {
  // not square, so letterboxed; CLAHE and 3 channels: every step of preprocess runs over there
  const prepare: FramePreparation = { size: { width: 40, height: 32, channels: 3 }, preprocessing: { resize: 'letterbox', normalize: 'unit', clahe: { clipLimit: 2, tiles: 4 } } };
  const source = await ThreadedSource.open('phantom:?size=96x64&fps=30&frames=12', { realtime: false, prepare });
  const frames: Frame[] = [];
  for await (const f of source) frames.push(f);
  assert.equal(frames.length, 12);
  for (const f of frames) {
    assert.ok(f.prepared, `frame ${f.id} has its model input`);
    const here = preprocess({ width: f.width, height: f.height, data: f.pixels }, prepare.size, prepare.preprocessing);
    assert.deepEqual(f.prepared.input.placement, here.placement);
    assert.ok(Buffer.from(f.prepared.input.data).equals(Buffer.from(here.data)), `frame ${f.id}: the same bytes`);
    assert.ok(Number.isFinite(f.prepared.ms) && f.prepared.ms >= 0, `frame ${f.id}: ${f.prepared.ms} ms`);
  }
  // the phantom moves: the frames are not all one picture
  assert.ok(!Buffer.from(frames[0].prepared!.input.data).equals(Buffer.from(frames[11].prepared!.input.data)));
});

test('a model input preprocess cannot make is refused when the source opens, naming it', async () => {
  const prepare = { size: { width: 32, height: 32, channels: 2 }, preprocessing: { resize: 'stretch', normalize: 'unit' } } as const;
  await assert.rejects(ThreadedSource.open('phantom:?size=64x64&fps=30&frames=2', { realtime: false, prepare }), /channels must be 1 or 3, got 2/);
});

test('the pipeline infers on the capture thread\'s model input and counts its time as preprocessing', { timeout: 30_000 }, async () => {
  const W = 32;
  const inputs: Uint8Array[] = [];
  const map = (side: number) => ({ width: side, height: side, data: new Uint8Array(side * side) });
  const engine: Engine = {
    name: 'echo',
    arch: { filters: 4, height: W, width: W, channels: 1 },
    peakBytes: 0,
    run(input: Uint8Array): InferenceResult {
      inputs.push(input.slice());
      const prob = { width: W, height: W, data: input.slice() };
      return { prob, mask: prob.data.map((v) => (v > 128 ? 1 : 0)), attention: [map(2), map(4), map(8), map(16)] };
    },
  };
  const prepare: FramePreparation = { size: { width: W, height: W, channels: 1 }, preprocessing: { resize: 'stretch', normalize: 'unit' } };
  const source = await ThreadedSource.open('phantom:?size=80x48&fps=30&frames=20', { realtime: false, prepare });
  const out: FrameMessage[] = [];
  const refuse = (): never => {
    throw new Error('preprocessed again on the main thread');
  };
  const p = new Pipeline(source, refuse, engine, (b) => (out.push(decodeFrameMessage(b)), true), { realtime: false, warmupFrames: 0, threshold: 128, gates: [] });
  await p.run();
  assert.equal(out.length, 20);
  assert.equal(inputs.length, 20);
  for (const [i, m] of out.entries()) {
    // what the monitor shows as the frame is what the engine was given
    assert.ok(Buffer.from(m.frame).equals(Buffer.from(inputs[i])), `frame ${m.frameId}`);
    assert.deepEqual(m.content, { x: 0, y: 0, width: W, height: W });
  }
  assert.ok(inputs.some((d) => d.some((v) => v > 0)), 'the engine saw the phantom, not blank inputs');
  assert.ok(p.stats.snapshot().latencyMs.preprocess!.max > 0, 'the capture thread\'s preprocessing is counted');
});
