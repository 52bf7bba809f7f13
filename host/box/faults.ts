// Power-cut simulation for tests: AUNET_FAULT=<point>[@<n>] makes the agent
// SIGKILL itself at the n-th time (default 1st) it reaches the named step
// (write-chunk, journal, verify, mark-pending, activate, boot-trial,
// self-test, confirm). Unset, it costs one comparison per step.

export function faultPointFromEnv(env = process.env.AUNET_FAULT): (name: string) => void {
  if (!env) return () => {};
  const [point, nth] = env.split('@');
  let left = Number(nth ?? 1);
  return (name: string) => {
    if (name === point && --left === 0) process.kill(process.pid, 'SIGKILL');
  };
}
