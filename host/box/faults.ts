// Power-cut simulation for tests: AUNET_FAULT=<point>[@<n>] makes the agent
// SIGKILL itself and its pipeline at the n-th time (default 1st) it reaches
// the named step (write-chunk, journal, verify, mark-pending, activate,
// boot-trial, self-test, confirm). The whole process group goes at once, as
// power would, when the agent leads one (the tests start it so); else the
// agent alone, and its pipeline follows when the IPC channel closes. Unset,
// it costs one comparison per step.

export function faultPointFromEnv(env = process.env.AUNET_FAULT): (name: string) => void {
  if (!env) return () => {};
  const [point, nth] = env.split('@');
  let left = Number(nth ?? 1);
  return (name: string) => {
    if (name !== point || --left !== 0) return;
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.kill(process.pid, 'SIGKILL');
    }
  };
}
