// How many threads run kernels when a command is not told (--threads, the run config):
// one place for the rule and its limit, read by the engine loader, the live service, the
// run configuration's schema and the benchmark; in common/ because the config (contracts/)
// and the kernels (host/) both need it, and choosing a count loads no kernel module.
import { availableParallelism } from 'node:os';

/** Most kernel threads a command accepts (--threads, the run config). */
export const MAX_THREADS = 64;

/**
 * Kernel threads (this one included) a command uses when not told: AUNET_THREADS when set
 * (test runs and several processes on one box set it to 1), else one per core less
 * `reserve` (cores other threads of the process need: `aunet run` keeps one for its main
 * thread and capture thread), at least 1.
 */
export function defaultThreads(reserve = 0): number {
  const env = Number(process.env.AUNET_THREADS);
  return Number.isInteger(env) && env >= 1 ? Math.min(env, MAX_THREADS) : Math.min(MAX_THREADS, Math.max(1, availableParallelism() - reserve));
}

/**
 * Kernel threads `aunet run` uses when not told: the cores less one, which its main thread
 * (broker, HTTP, publishing) and its capture thread share; AUNET_THREADS overrides.
 */
export function runThreads(): number {
  return defaultThreads(1);
}
