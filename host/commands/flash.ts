import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { FileError, AunetError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';
import { PacketLink } from '../../firmware/link.js';
import { DeviceClient } from '../../firmware/flasher.js';
import { DeviceError } from '../../firmware/protocol.js';
import { ImageError, parseImage } from '../../firmware/image.js';
import { openSerial, closeSerial } from '../../firmware/serial.js';

export function register(program: Command): void {
  program
    .command('flash')
    .description('flash a firmware image over a serial port (docs/serial-protocol.md); resumes an interrupted transfer')
    .argument('<image>', '.aufw image')
    .requiredOption('--port <dev>', 'serial device, e.g. /dev/ttyUSB0')
    .option('--baud <n>', 'baud rate', '921600')
    .option('--no-activate', 'transfer and verify only; do not activate the new slot')
    .option('--reboot', 'reboot the box into the new image after activation')
    .option('--allow-downgrade', 'let the box install a lower version at the same security counter')
    .option('--trace', 'print every frame in hex with time deltas')
    .option('--data-timeout <ms>', 'acknowledgement stall before retransmitting', '1000')
    .option('--timeout <ms>', 'wait for each command response', '2000')
    .option('--retries <n>', 'attempts per command before giving up', '5')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, o: { port: string; baud: string; activate: boolean; reboot?: boolean; allowDowngrade?: boolean; trace?: boolean; dataTimeout: string; timeout: string; retries: string; progress: boolean }) => {
      let image: Uint8Array;
      try {
        image = readFileSync(file);
        parseImage(image);
      } catch (e) {
        if (e instanceof ImageError) throw new FileError(file, e.message, e.code);
        throw new FileError(file, (e as Error).message, 'NO_FILE');
      }
      const timing = {
        dataTimeoutMs: parseInteger(o.dataTimeout, '--data-timeout', { min: 1 }),
        commandTimeoutMs: parseInteger(o.timeout, '--timeout', { min: 1 }),
        commandAttempts: parseInteger(o.retries, '--retries', { min: 1 }),
      };
      const port = await openSerial(o.port, parseInteger(o.baud, '--baud', { min: 1 }));
      const link = new PacketLink(port, { trace: o.trace ? (l) => process.stderr.write(`${l}\n`) : undefined });
      const client = new DeviceClient(link, timing);
      const bar = o.progress && process.stderr.isTTY ? new SingleBar({ format: 'flashing [{bar}] {percentage}% | {value}/{total} chunks | resent {resent}', hideCursor: true }, Presets.shades_classic) : null;
      let started = false;
      try {
        const r = await client.flash(image, {
          activate: o.activate,
          reboot: o.reboot,
          allowDowngrade: o.allowDowngrade,
          onProgress: (p) => {
            if (!started) {
              bar?.start(p.chunks, p.acked, { resent: 0 });
              started = true;
              if (p.resumedFrom > 0) process.stderr.write(`resuming at chunk ${p.resumedFrom} of ${p.chunks}\n`);
            }
            bar?.update(p.acked, { resent: p.retransmissions });
          },
        });
        bar?.stop();
        if (r.alreadyRunning) {
          process.stdout.write(`${file}: the box already runs this image (version ${r.version}, slot ${r.slot}); nothing flashed\n`);
          return;
        }
        process.stdout.write(
          `flashed ${file}: version ${r.version} into slot ${r.slot}, verified on the box` +
            `${o.activate ? (o.reboot ? ', activated and rebooting into it (on trial)' : ', activated (boots on trial at the next boot)') : ''}; ${r.chunks} chunks, ${r.dataFramesSent} data frames sent, ` +
            `${r.retransmissions} retransmitted${r.resumedFrom ? `, resumed at chunk ${r.resumedFrom}` : ''}\n`,
        );
      } catch (e) {
        bar?.stop();
        if (e instanceof DeviceError) throw new AunetError('DEVICE', `${o.port}: ${e.message}`);
        throw e;
      } finally {
        link.close();
        await closeSerial(port);
      }
    });
}
