// Inference first: thread ids from /proc and the lowering of every other thread (Linux, where the
// box runs; this file runs in a process of its own, whose threads it renices).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { lowerOtherThreads, ownThreadId } from '../../common/thread-priority.js';
import { createThreadedKernels } from '../../host/kernels/threaded-kernels.js';
import { loadEngine } from '../../host/load/engine-loader.js';
import { randomQModel } from '../../models/random-qmodel.js';

// a worker thread that reports its OS thread id and stays until terminated
async function idleThread(): Promise<{ tid: number; worker: Worker }> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
     setInterval(() => {}, 1000);`,
    { eval: true },
  );
  const tid = await new Promise<number>((resolve) => worker.once('message', resolve));
  return { tid, worker };
}

test('this thread, a worker and the kernel threads each have their own OS thread id', async () => {
  assert.equal(ownThreadId(), process.pid, 'the main thread of a Linux process has the process id');
  const { tid, worker } = await idleThread();
  const kernels = await createThreadedKernels({ threads: 3 });
  try {
    assert.notEqual(tid, process.pid);
    assert.equal(kernels.threadIds.length, 2, 'one id per kernel worker');
    const tasks = readdirSync('/proc/self/task').map(Number);
    for (const t of [tid, ...kernels.threadIds]) assert.ok(tasks.includes(t), `thread ${t} is one of this process's`);
    assert.equal(new Set([process.pid, tid, ...kernels.threadIds]).size, 4);
    // the engine loader passes the ids on
    const loaded = await loadEngine(randomQModel({ filters: 4, height: 32, width: 32, channels: 1 }), { kernels });
    assert.deepEqual(loaded.threadIds, kernels.threadIds);
  } finally {
    await kernels.close();
    await worker.terminate();
  }
});

test('lowerOtherThreads lowers every thread but the kept ones, and never raises one', async () => {
  const kept = await idleThread();
  const other = await idleThread();
  const low = await idleThread();
  try {
    setPriority(low.tid, 15);
    const before = getPriority(kept.tid);
    assert.ok(before < 5, `the test runs at a nice value below 5 (${before})`);
    const lowered = lowerOtherThreads([kept.tid], 5);
    assert.ok(lowered >= 2, `this thread and the other worker at least (lowered ${lowered})`);
    assert.equal(getPriority(process.pid), 5, 'this (main) thread lowered');
    assert.equal(getPriority(other.tid), 5, 'another worker lowered');
    assert.equal(getPriority(kept.tid), before, 'the kept thread keeps its priority');
    assert.equal(getPriority(low.tid), 15, 'a thread already lower is not raised');
    assert.equal(lowerOtherThreads([kept.tid], 5), 0, 'nothing left to lower');
    // a thread started by a lowered one inherits its value: the kept one stays the only one at 0
    const later = await idleThread();
    assert.equal(getPriority(later.tid), 5);
    await later.worker.terminate();
  } finally {
    await Promise.all([kept, other, low].map((t) => t.worker.terminate()));
  }
});
