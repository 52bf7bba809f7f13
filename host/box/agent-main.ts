// `aunet device agent`: the box. Reads the per-box settings, starts what the
// operator's page needs (broker, monitor server, status: box-services.ts),
// boots the image the policy picks and runs its pipeline as a child process
// (box.ts), and answers the serial protocol (agent.ts) the whole time, so the
// box can be updated while it runs. A serial port that disappears (a USB
// gadget unplugged) is logged and opened again with backoff; the pipeline
// runs on meanwhile. SIGTERM/SIGINT stop the pipeline cleanly, then the agent.
import type { SerialPort } from 'serialport';
import type { Logger } from 'pino';
import { Agent } from './agent.js';
import { Box, type BoxPolicy } from './box.js';
import { BoxServices } from './box-services.js';
import { boxLog } from './box-log.js';
import { faultPointFromEnv } from './faults.js';
import { ForkLauncher } from './pipeline-process.js';
import { systemdNotifier } from './systemd.js';
import { loadBoxSettings } from '../../contracts/box-settings.js';
import { packageVersion } from '../../common/package-root.js';
import { loadPublicKey } from '../../firmware/keys.js';
import { PacketLink } from '../../firmware/link.js';
import { closeSerial, openSerial } from '../../firmware/serial.js';
import { Storage } from '../../firmware/slots.js';
import { Backoff } from '../publish/backoff.js';

export interface AgentMainOptions {
  port: string;
  baud: number;
  root: string;
  pubkey: string;
  hardwareId: string;
  development: boolean;
  inputTimeoutMs: number;
  policy: BoxPolicy;
}

/** Retrying a serial port that is missing: 0.5 s, doubling, at most 10 s. */
const PORT_BACKOFF = { initialMs: 500, factor: 2, maxMs: 10_000, jitter: 0.1 };

export async function runAgent(o: AgentMainOptions): Promise<void> {
  const { settings, file, found } = loadBoxSettings(o.root);
  const log = boxLog(settings.log.level, { proc: 'agent', device: settings.device });
  if (!found) log.warn({ file }, 'no settings file: using the defaults (device aunet-0, embedded broker); `aunet device install` writes one');
  const storage = new Storage(o.root);
  const publicKey = loadPublicKey(o.pubkey);
  const point = faultPointFromEnv();
  const services = await BoxServices.start(settings, file, log);
  const box = new Box({ storage, publicKey, hardwareId: o.hardwareId, settings, settingsFile: file, services, launcher: new ForkLauncher(), policy: o.policy, software: packageVersion(), log, point });
  const agent = new Agent({ storage, publicKey, hardwareId: o.hardwareId, box, development: o.development, inputTimeoutMs: o.inputTimeoutMs, point, log });
  log.info({ root: o.root, hardwareId: o.hardwareId, mode: o.development ? 'development' : 'production', software: packageVersion() }, 'agent starting');
  await box.start();
  const serial = new SerialServer(o.port, o.baud, agent, log);
  await serial.open();
  log.info({ port: o.port, monitor: services.monitorUrl }, `agent ready on ${o.port}`);
  const notifier = systemdNotifier(log);
  notifier?.ready();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'agent stopping');
      notifier?.stop();
      void (async () => {
        await box.close();
        agent.close();
        await serial.close();
        await services.close();
        log.info('agent stopped');
        log.flush();
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** The serial port, served by the agent, and opened again whenever it goes away. */
class SerialServer {
  #port: SerialPort | null = null;
  #link: PacketLink | null = null;
  #detach: (() => void) | null = null;
  #closed = false;
  readonly #backoff = new Backoff(PORT_BACKOFF);

  constructor(private readonly path: string, private readonly baud: number, private readonly agent: Agent, private readonly log: Logger) {}

  /** Resolves once the port is open (retrying meanwhile). */
  open(): Promise<void> {
    return new Promise((resolve) => {
      const attempt = () => {
        if (this.#closed) return resolve();
        openSerial(this.path, this.baud).then(
          (port) => {
            this.#backoff.reset();
            this.#attach(port);
            resolve();
          },
          (e: Error) => {
            const delay = this.#backoff.schedule(attempt);
            this.log.error({ port: this.path, err: e.message, retryInMs: delay }, 'cannot open the serial port; retrying');
          },
        );
      };
      attempt();
    });
  }

  #attach(port: SerialPort): void {
    this.#port = port;
    this.#link = new PacketLink(port);
    this.#detach = this.agent.serve(this.#link);
    this.log.info({ port: this.path }, 'serial port open');
    port.on('error', (e) => this.log.error({ port: this.path, err: e.message }, 'serial port error'));
    port.on('close', () => {
      this.#detach?.();
      this.#link?.close();
      this.#port = null;
      if (this.#closed) return;
      this.log.error({ port: this.path }, 'serial port lost; opening it again with backoff');
      void this.open();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#backoff.cancel();
    if (this.#port) await closeSerial(this.#port);
  }
}
