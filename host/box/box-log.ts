// The agent's and the pipeline child's log: JSON lines on stderr (pino), as
// `aunet run` writes them, each line naming the process it comes from.
import { pino, type Logger } from 'pino';

export function boxLog(level: string, base: Record<string, unknown>): Logger {
  return pino({ level, base: { pid: process.pid, ...base } }, pino.destination(2));
}

/** No output (in-process tests). */
export function silentLog(): Logger {
  return pino({ level: 'silent' });
}
