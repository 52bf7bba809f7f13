import type { Command } from 'commander';
import { AunetError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';

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
    .command('agent')
    .description('run the on-box agent: A/B slots under --root, verified, self-tested, never bricked')
    .requiredOption('--port <dev>', 'serial device the host flashes through')
    .requiredOption('--root <dir>', 'storage folder holding the slots and the state')
    .requiredOption('--pubkey <file>', 'Ed25519 public key images must be signed with')
    .option('--baud <n>', 'baud rate', '921600')
    .option('--hardware-id <id>', "this box's hardware id", 'aunet-edge-1')
    .option('--production', 'accept only the flashing commands')
    .option('--max-trial-boots <n>', 'failed trial boots before reverting', '3')
    .option('--input-timeout <ms>', 'suspend a silent transfer after this long', '30000')
    .action(async (o: { port: string; root: string; pubkey: string; baud: string; hardwareId: string; production?: boolean; maxTrialBoots: string; inputTimeout: string }) => {
      const { runAgent } = await import('../box/agent-main.js');
      await runAgent({
        port: o.port,
        baud: parseInteger(o.baud, '--baud', { min: 1 }),
        root: o.root,
        pubkey: o.pubkey,
        hardwareId: o.hardwareId,
        production: Boolean(o.production),
        maxTrialBoots: parseInteger(o.maxTrialBoots, '--max-trial-boots', { min: 1 }),
        inputTimeoutMs: parseInteger(o.inputTimeout, '--input-timeout', { min: 1 }),
      });
    });
}

function formatInfo(info: Record<string, unknown>): string {
  const slots = info.slots as Record<string, { version?: string; securityCounter?: number; state: string }>;
  const lines = [
    `hardware ${String(info.hardwareId)}, ${String(info.mode)} mode, agent ${String(info.state)}, running slot ${String(info.running ?? 'none')}`,
    `minimum security counter ${String(info.minSecurityCounter)}`,
  ];
  for (const [name, s] of Object.entries(slots)) {
    lines.push(`slot ${name}: ${s.state}${s.version ? ` — version ${s.version}, security counter ${s.securityCounter}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
