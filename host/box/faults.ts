// Power-cut simulation for tests: AUNET_FAULT=<point>[@<n>] makes the agent
// SIGKILL itself and its pipeline at the n-th time (default 1st) it reaches
// the named step (write-chunk, journal, verify, mark-pending, activate,
// boot-trial, self-test, confirm). The whole process group goes at once, as
// power would, when the agent leads one (the tests start it so); else the
// agent alone, and its pipeline follows when the IPC channel closes. Unset,
// it costs one comparison per step. <point>[@<n>]+<ms> instead holds the agent
// there for ms, its thread blocked as by a slow storage sync.

export function faultPointFromEnv(env = process.env.AUNET_FAULT): (name: string) => void {
  if (!env) return () => {};
  const [spec, hold] = env.split('+');
  const [point, nth] = spec.split('@');
  let left = Number(nth ?? 1);
  const holdMs = hold === undefined ? undefined : Number(hold);
  // Atomics.wait with a NaN timeout waits forever: a typo must not hang the agent
  if (holdMs !== undefined && !(holdMs >= 0)) throw new RangeError(`AUNET_FAULT=${env}: the hold after '+' must be milliseconds, e.g. journal@2+10000`);
  return (name: string) => {
    if (name !== point || --left !== 0) return;
    if (holdMs !== undefined) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, holdMs);
      return;
    }
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.kill(process.pid, 'SIGKILL');
    }
  };
}
