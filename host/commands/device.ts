import type { Command } from 'commander';
import { AunetError } from '../../common/errors.js';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
import { DEFAULT_POLICY } from '../box/box.js';

export function register(program: Command): void {
  const device = program.command('device').description('the box side of serial flashing, and queries of a box');
  device
    .command('info')
    .description('slots, versions, security counters and agent state of a box')
    .requiredOption('--port <dev>', 'serial device')
    .option('--baud <n>', 'baud rate', '921600')
    .option('--json', 'print JSON')
    .action(async (o: { port: string; baud: string; json?: boolean }) => {
      const { openSerial, closeSerial } = await import('../../firmware/serial.js');
      const { PacketLink } = await import('../../firmware/link.js');
      const { DeviceClient } = await import('../../firmware/flasher.js');
      const { DeviceError } = await import('../../firmware/protocol.js');
      const port = await openSerial(o.port, parseInteger(o.baud, '--baud', { min: 1 }));
      const link = new PacketLink(port);
      try {
        const info = await new DeviceClient(link).info();
        if (o.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        else process.stdout.write(formatInfo(info));
      } catch (e) {
        if (e instanceof DeviceError) throw new AunetError('DEVICE', `${o.port}: ${e.message}`);
        throw e;
      } finally {
        link.close();
        await closeSerial(port);
      }
    });
  device
    .command('install')
    .description('lay out a box root (slots, public key, settings.yaml) and write the systemd unit that runs the agent on it (docs/box.md)')
    .requiredOption('--root <dir>', 'the box root to create (e.g. /var/lib/aunet)')
    .requiredOption('--pubkey <file>', 'Ed25519 public key images must be signed with (copied into the root)')
    .requiredOption('--port <dev>', 'serial device the host flashes through (absolute, e.g. /dev/ttyGS0)')
    .option('--device <id>', 'device id written into a new settings.yaml', 'aunet-0')
    .option('--hardware-id <id>', "this box's hardware id")
    .option('--baud <n>', 'baud rate')
    .option('--user <name>', 'run the agent as this user (in the dialout group)')
    .option('--unit-dir <dir>', 'where the unit file goes', '/etc/systemd/system')
    .option('--no-notify', 'a plain unit without the watchdog (default: Type=notify with a watchdog where systemd-notify is installed)')
    .action(async (o: { root: string; pubkey: string; port: string; device: string; hardwareId?: string; baud?: string; user?: string; unitDir: string; notify: boolean }) => {
      const { installBox } = await import('../box/install.js');
      const r = installBox({
        root: o.root,
        pubkey: o.pubkey,
        port: o.port,
        unitDir: o.unitDir,
        device: o.device,
        hardwareId: o.hardwareId,
        baud: o.baud ? parseInteger(o.baud, '--baud', { min: 1 }) : undefined,
        user: o.user,
        notify: o.notify ? undefined : false,
      });
      const kept = (w: boolean) => (w ? 'written' : 'kept (already there)');
      process.stdout.write(
        [
          `box root ${r.root}: slots a and b`,
          `public key ${r.pubkey.file}: ${kept(r.pubkey.written)}`,
          `settings ${r.settings.file}: ${kept(r.settings.written)}`,
          `unit ${r.unit}: ${r.notify ? 'Type=notify with a watchdog fed through systemd-notify' : 'Type=simple, no watchdog'}`,
          'next: systemctl daemon-reload && systemctl enable --now aunet-agent (docs/box.md)',
          '',
        ].join('\n'),
      );
    });
  device
    .command('agent')
    .description('run the box: boot the image its slots hold, run its pipeline, serve flashing over the serial port (docs/box.md)')
    .requiredOption('--port <dev>', 'serial device the host flashes through')
    .requiredOption('--root <dir>', 'the box root: slots, state, settings.yaml (docs/box.md)')
    .requiredOption('--pubkey <file>', 'Ed25519 public key images must be signed with')
    .option('--baud <n>', 'baud rate', '921600')
    .option('--hardware-id <id>', "this box's hardware id", 'aunet-edge-1')
    .option('--development', 'also accept READ_STATE and ERASE_SLOT (default: production, flashing commands only)')
    .option('--max-trial-boots <n>', 'boots of a trial image without confirming before it is abandoned', String(DEFAULT_POLICY.maxTrialBoots))
    .option('--healthy-for <s>', 'seconds a trial pipeline must stay healthy after its self-test before the image is confirmed', String(DEFAULT_POLICY.healthyForMs / 1000))
    .option('--crash-limit <n>', 'pipeline crashes within --crash-window that revert a trial', String(DEFAULT_POLICY.crashLimit))
    .option('--crash-window <s>', 'seconds over which pipeline crashes are counted', String(DEFAULT_POLICY.crashWindowMs / 1000))
    .option('--watchdog <s>', 'seconds without a heartbeat after which the pipeline is killed as hung', String(DEFAULT_POLICY.watchdogMs / 1000))
    .option('--input-timeout <ms>', 'suspend a silent transfer after this long', '30000')
    .action(async (o: AgentFlags) => {
      const { runAgent } = await import('../box/agent-main.js');
      await runAgent({
        port: o.port,
        baud: parseInteger(o.baud, '--baud', { min: 1 }),
        root: o.root,
        pubkey: o.pubkey,
        hardwareId: o.hardwareId,
        development: Boolean(o.development),
        inputTimeoutMs: parseInteger(o.inputTimeout, '--input-timeout', { min: 1 }),
        policy: {
          ...DEFAULT_POLICY,
          maxTrialBoots: parseInteger(o.maxTrialBoots, '--max-trial-boots', { min: 1 }),
          healthyForMs: parseNumber(o.healthyFor, '--healthy-for', { min: 0 }) * 1000,
          crashLimit: parseInteger(o.crashLimit, '--crash-limit', { min: 1 }),
          crashWindowMs: parseNumber(o.crashWindow, '--crash-window', { above: 0 }) * 1000,
          watchdogMs: parseNumber(o.watchdog, '--watchdog', { min: 2 }) * 1000,
        },
      });
    });
}

interface AgentFlags {
  port: string;
  root: string;
  pubkey: string;
  baud: string;
  hardwareId: string;
  development?: boolean;
  maxTrialBoots: string;
  healthyFor: string;
  crashLimit: string;
  crashWindow: string;
  watchdog: string;
  inputTimeout: string;
}

function formatInfo(info: Record<string, unknown>): string {
  const slots = info.slots as Record<string, { version?: string; securityCounter?: number; state: string }>;
  const fw = info.firmware as { version: string; slot: string; state: string; runtime: string; sha256: string } | null | undefined;
  const p = info.pipeline as { state: string; stream?: string | null; reason?: string; lastExit?: { reason: string; at: number } | null } | undefined;
  const lines = [
    `hardware ${String(info.hardwareId)}, ${String(info.mode)} mode, agent ${String(info.state)}, running slot ${String(info.running ?? 'none')}`,
    `firmware ${fw ? `${fw.version} (slot ${fw.slot}, ${fw.state}, ${fw.runtime} runtime, sha256 ${fw.sha256.slice(0, 16)}…)` : 'none'}`,
    `pipeline ${p ? `${p.state}${p.stream ? ` (${p.stream})` : ''}${p.reason ? `: ${p.reason}` : ''}` : 'unknown'}${p?.lastExit ? `; last exit ${new Date(p.lastExit.at).toISOString()}: ${p.lastExit.reason}` : ''}`,
    ...(info.monitor ? [`monitor ${String(info.monitor)}`] : []),
    `minimum security counter ${String(info.minSecurityCounter)}`,
  ];
  for (const [name, s] of Object.entries(slots)) {
    lines.push(`slot ${name}: ${s.state}${s.version ? ` — version ${s.version}, security counter ${s.securityCounter}` : ''}`);
  }
  for (const r of (info.rejected as { slot: string; version: string; reason: string }[] | undefined) ?? []) lines.push(`rejected: ${r.version} (slot ${r.slot}): ${r.reason}`);
  return `${lines.join('\n')}\n`;
}
