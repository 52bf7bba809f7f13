// The agent under systemd (docs/box.md): the unit `aunet device install`
// writes, and the notifications that make its watchdog real. Node cannot send
// sd_notify datagrams itself (no Unix datagram sockets), so the agent runs
// `systemd-notify` (NotifyAccess=all, --pid naming the agent): READY=1 once
// it serves, WATCHDOG=1 every WatchdogSec/2 from its event loop, so a hung
// agent stops feeding and systemd restarts it. Without systemd-notify on the
// box the unit has no watchdog (a watchdog nobody feeds would only kill it).
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

export const UNIT_NAME = 'aunet-agent.service';
export const WATCHDOG_SEC = 30;

export interface UnitOptions {
  /** the command line of the agent, already absolute (node, bin/aunet.js, flags) */
  execStart: string[];
  root: string;
  /** systemd-notify is installed: Type=notify with a watchdog */
  notify: boolean;
  user?: string;
}

/** Quote one ExecStart word for systemd (systemd.syntax: double quotes, backslash escapes). */
function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}

export function unitFile(o: UnitOptions): string {
  return [
    '[Unit]',
    'Description=aunet-edge box agent: serial flashing, A/B slots, the pipeline of the running image',
    'After=network.target',
    // restart forever: a box with a broken settings file must keep saying so in the journal
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    ...(o.notify ? ['Type=notify', 'NotifyAccess=all', `WatchdogSec=${WATCHDOG_SEC}`] : ['Type=simple']),
    `ExecStart=${o.execStart.map(quote).join(' ')}`,
    `WorkingDirectory=${quote(o.root)}`,
    ...(o.user ? [`User=${o.user}`, 'SupplementaryGroups=dialout'] : []),
    'Restart=always',
    'RestartSec=2',
    // SIGTERM to the agent only: it stops its pipeline child cleanly (status `stopped`), then the rest is killed
    'KillMode=mixed',
    'TimeoutStopSec=20',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** READY and the watchdog, when started by systemd with a notify socket; null otherwise. */
export function systemdNotifier(log: Logger, env: NodeJS.ProcessEnv = process.env): { ready(): void; stop(): void } | null {
  if (!env.NOTIFY_SOCKET) return null;
  const send = (what: string) =>
    execFile('systemd-notify', ['--no-block', `--pid=${process.pid}`, what], (err) => {
      if (err) log.warn({ err: err.message, what }, 'systemd-notify failed');
    });
  let timer: NodeJS.Timeout | null = null;
  return {
    ready() {
      send('--ready');
      const usec = Number(env.WATCHDOG_USEC);
      if (Number.isFinite(usec) && usec > 0) {
        timer = setInterval(() => send('WATCHDOG=1'), Math.max(500, usec / 2000));
        timer.unref();
        log.info({ intervalMs: Math.max(500, usec / 2000) }, 'feeding the systemd watchdog');
      }
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
