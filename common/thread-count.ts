// How many threads run kernels when a command is not told (--threads, the run config):
// one place for the rule and its limit, read by the engine loader, the live service, the
// run configuration's schema and the benchmark; in common/ because the config (contracts/)
// and the kernels (host/) both need it, and choosing a count loads no kernel module.
import { availableParallelism } from 'node:os';

/** Most kernel threads a command accepts (--threads, the run config). */
export const MAX_THREADS = 64;

/**
 * Kernel threads (this one included) a command uses when not told: AUNET_THREADS when set
 * (test runs and several processes on one box set it to 1), else one per core. `aunet run`
 * too: its main and capture threads need no core of their own, because a divided call's parts
 * go to whichever kernel thread is free (host/kernels/kernel-pool.ts); on the 2-core box 2
 * kernel threads published more frames with a lower p99 than 1 in every pipeline round
 * (docs/benchmarks.md, "Issue 14 bars after the job board").
 */
export function defaultThreads(): number {
  const env = Number(process.env.AUNET_THREADS);
  return Number.isInteger(env) && env >= 1 ? Math.min(env, MAX_THREADS) : Math.min(MAX_THREADS, availableParallelism());
}
