// Kernel calls as data: what a bound op (host/kernels/ops, a closure over constant
// arguments) calls, recorded once at load by running it against a KernelFunctions that only
// writes the calls down. A caller that schedules work over threads itself (the chip
// machine's tiles, host/chip/tile-scheduler.ts) can then post a tile's calls to a worker
// thread as they are, without knowing the op: the binding stays the one place that decides
// them.
import { KERNEL_FUNCTIONS, type KernelFunctions } from './kernel-set.js';
import type { KernelName } from './kernel-split.js';

/** One kernel call, by name. */
export interface KernelCall {
  kernel: KernelName;
  args: readonly number[];
}

/** The calls `bind(recorder)()` makes, in order; `bind` must not depend on what the kernels compute. */
export function recordCalls(bind: (kernels: KernelFunctions) => () => void): KernelCall[] {
  const calls: KernelCall[] = [];
  const recorder = Object.fromEntries(KERNEL_FUNCTIONS.map((kernel) => [kernel, (...args: number[]) => void calls.push({ kernel, args })])) as unknown as KernelFunctions;
  bind(recorder)();
  return calls;
}
