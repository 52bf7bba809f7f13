// What the operator's page depends on while the pipeline restarts, kept in
// the agent's process: the embedded broker (MQTT over TCP and WebSocket), the
// monitor's HTTP server (serving the running image's monitor bundle, or the
// installed one when no image runs) and the agent's own MQTT link, which holds
// the device's Last Will and publishes the retained status while no pipeline
// does (`updating`, `no-image`: docs/mqtt.md). With an external broker the
// agent and the pipeline both connect to it and no page is served here.
import type { Logger } from 'pino';
import { FileError } from '../../common/errors.js';
import { readInputFile } from '../../common/input-file.js';
import type { BoxSettings } from '../../contracts/box-settings.js';
import type { BoxStatusState, FirmwareStatus } from '../../contracts/firmware-status.js';
import { topicsFor } from '../../contracts/topics.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../publish/broker.js';
import { Publisher, redact } from '../publish/client.js';
import { MONITOR_DIST } from '../publish/static-files.js';
import { UserStore, defaultUserStorePath } from '../publish/user-store.js';
import type { BrokerLink } from './pipeline-ipc.js';

export class BoxServices {
  #monitorRoot: string | null = null;
  /** the agent's last status, republished on reconnect while the agent owns the status */
  #status: Record<string, unknown> | null = null;
  #agentOwnsStatus = true;

  private constructor(
    readonly link: BrokerLink,
    readonly broker: EmbeddedBroker | null,
    private readonly publisher: Publisher,
    private readonly device: string,
    private readonly log: Logger,
  ) {
    publisher.on('connect', () => {
      if (this.#agentOwnsStatus && this.#status) void this.#publish();
    });
    publisher.on('state', (s) => log.info({ link: s }, `agent broker link ${s}`));
  }

  static async start(settings: BoxSettings, settingsFile: string, log: Logger): Promise<BoxServices> {
    const b = settings.broker;
    let broker: EmbeddedBroker | null = null;
    let link: BrokerLink = { url: b.url, username: b.username, password: b.password };
    let services: BoxServices | null = null;
    if (b.url === 'embedded') {
      broker = await startEmbeddedBroker({
        port: b.port,
        httpPort: b.httpPort,
        operators: new UserStore(b.userStore ?? defaultUserStorePath()),
        allowedOrigins: b.allowedOrigins,
        allowedHosts: b.allowedHosts,
        device: settings.device,
        staticRoot: () => services?.monitorRoot ?? MONITOR_DIST,
        log: (level, msg, fields) => log[level](fields ?? {}, msg),
      });
      link = { url: broker.url, ...broker.serviceUser };
      log.info({ mqtt: broker.url, ws: broker.wsUrl, monitor: broker.monitorUrl }, 'embedded broker and monitor listening');
    }
    const topics = topicsFor(settings.device);
    const publisher = new Publisher({
      ...link,
      clientId: `aunet-agent-${settings.device}-${process.pid}`,
      keepalive: b.keepalive,
      will: { topic: topics.status, payload: JSON.stringify({ state: 'offline', online: false, device: settings.device, since: Date.now() }), qos: 1, retain: true },
      ca: b.tls.ca ? readInputFile(b.tls.ca, 'the broker CA certificate (broker.tls.ca)') : undefined,
      rejectUnauthorized: b.tls.rejectUnauthorized,
    });
    services = new BoxServices(link, broker, publisher, settings.device, log);
    try {
      await publisher.start(5000);
    } catch (e) {
      if ((e as { code?: string }).code !== 'BROKER_TIMEOUT') {
        await services.close();
        // the credentials or the CA are per-box settings: name the file to fix
        throw new FileError(settingsFile, `broker ${redact(link.url)}: ${(e as Error).message}`, 'BROKER_REFUSED');
      }
      log.warn({ broker: redact(link.url) }, 'broker not reachable yet; retrying');
    }
    return services;
  }

  /** the folder the monitor's page is served from (null: the installed monitor) */
  get monitorRoot(): string | null {
    return this.#monitorRoot;
  }

  get monitorUrl(): string | null {
    return this.broker?.monitorUrl ?? null;
  }

  /** Serve this folder (a slot's extracted monitor bundle); null: the installed monitor. */
  setMonitorRoot(dir: string | null): void {
    this.#monitorRoot = dir;
  }

  /** The agent's status (retained): the box is updating or holds no image, and why. */
  async publishStatus(state: BoxStatusState, reason: string, firmware: FirmwareStatus | null): Promise<void> {
    this.#agentOwnsStatus = true;
    const now = Date.now();
    this.#status = { state, online: true, device: this.device, since: now, ts: now, reason, firmware };
    await this.#publish();
  }

  /** The pipeline has published its own status: the agent keeps quiet until the next restart. */
  pipelineOwnsStatus(): void {
    this.#agentOwnsStatus = false;
  }

  async #publish(): Promise<void> {
    const ok = await this.publisher.publishReliable(topicsFor(this.device).status, JSON.stringify({ ...this.#status, ts: Date.now() }), true);
    if (!ok) this.log.debug('status not published (broker link down); republished on reconnect');
  }

  async close(): Promise<void> {
    await this.publisher.close();
    await this.broker?.close();
  }
}
