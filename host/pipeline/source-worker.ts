// Worker thread side of ThreadedSource: opens the source, paces it and posts
// frames to the main thread. Capture (decoding, generating the phantom) then
// runs beside inference instead of between frames, as a capture card would;
// so does preprocessing when the pipeline says what the model takes.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { openSource } from '../../camera/source.js';
import type { Frame } from '../../camera/frame.js';
import { preprocess } from '../../camera/preprocess.js';
import { pacedFrames } from '../../camera/pacer.js';
import type { FromWorker, ToWorker, WorkerInit } from './threaded-source.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let inflight = 0;
let credits = init.lossless ? init.prefetch : 0;
let closing = false;
let wake: (() => void) | null = null;
let close: () => void = () => {};

port.on('message', (m: ToWorker) => {
  if (m.type === 'ack') inflight--;
  else if (m.type === 'credit') credits++;
  else if (m.type === 'close') {
    closing = true;
    close();
  }
  wake?.();
  wake = null;
});

async function main(): Promise<void> {
  // the live service waits for an unplugged probe to come back (with backoff), telling why it is lost
  const src = await openSource(init.spec, { reconnect: true });
  close = () => void src.close();
  if (closing) close();
  post({ type: 'info', info: src.info, state: src.state });
  src.on('state', (change) => post({ type: 'state', change }));
  for (const message of src.warnings) post({ type: 'warning', message });
  src.on('warning', (message) => post({ type: 'warning', message }));
  let dropped = 0;
  for await (const f of pacedFrames(src, init.realtime && !init.lossless)) {
    if (closing) break;
    if (init.lossless) {
      while (credits === 0 && !closing) await new Promise<void>((r) => (wake = r));
      if (closing) break;
      credits--;
    } else if (inflight >= init.maxInflight) {
      // the main thread is not taking frames (busy or blocked): a camera does not wait
      dropped++;
      continue;
    }
    inflight++;
    // copy: a source may hand out views into buffers it reuses
    const pixels = f.pixels.slice();
    const frame: Frame = { ...f, pixels, groundTruth: undefined };
    const transfer = [pixels.buffer];
    if (init.prepare) {
      const t0 = performance.now();
      const input = preprocess({ width: f.width, height: f.height, data: f.pixels }, init.prepare.size, init.prepare.preprocessing);
      frame.prepared = { input, ms: performance.now() - t0 };
      transfer.push(input.data.buffer as ArrayBuffer);
    }
    post({ type: 'frame', frame, dropped }, transfer);
    dropped = 0;
  }
  post({ type: 'end', dropped });
}

main()
  .catch((e: Error & { code?: string; exitCode?: number }) => {
    post({ type: 'error', name: e.name, message: e.message, code: e.code, exitCode: e.exitCode });
  })
  // nothing more to send; the thread ends here (tsx's compiler service would keep it alive)
  .finally(() => setImmediate(() => process.exit(0)));
