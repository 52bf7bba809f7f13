// `aunet run`: stream frames through the model and publish them over MQTT
// (docs/mqtt.md). With no arguments: the shipped model on the bundled demo
// stream (the speckle phantom), embedded broker, monitor URL printed.
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { loadRunConfig, type RunFlags } from '../../contracts/run-config.js';
import { integerOption } from '../../common/cli-args.js';
import { DEFAULT_MODEL, packageVersion } from '../../common/package-root.js';
import { RANDOM_DEMO_MODEL } from '../load/model-loader.js';
import { engineOption, threadsOption } from './support/engine-options.js';
import { LiveService } from '../box/live-service.js';
import { monitorAvailable } from '../publish/static-files.js';
import { UserStore, createFirstOperator, defaultUserStorePath } from '../publish/user-store.js';
import { UsageError } from '../../common/errors.js';

/** The flags as commander parses them: the config's flags, plus --config and --afap (= realtime false). */
type RunOpts = Omit<RunFlags, 'realtime' | 'password'> & { config?: string; afap?: boolean; password?: string };

export function register(program: Command): void {
  program
    .command('run')
    .description('stream frames through the model and publish frames, masks and attention maps over MQTT')
    .option('--source <spec>', 'frame source: phantom:, folder:DIR, file:PATH, v4l2:/dev/videoN, dicom:PATH, rec:PATH (default: the phantom demo stream)')
    .option('--model <file>', `.aunet model (default: the shipped ${DEFAULT_MODEL}); ${RANDOM_DEMO_MODEL} for a random-weight model`)
    .option('--broker <url>', 'embedded (default), or mqtt://, mqtts://, ws://, wss:// URL of an external broker')
    .option('--device <id>', 'device id in the topics aunet/<id>/... (default aunet-0)')
    .option('--config <file>', 'YAML or JSON config file (docs/config.md); flags override it')
    .option('--username <user>', "external broker: the live service's username (or AUNET_BROKER_USERNAME)")
    .option('--password-file <file>', "external broker: file whose first line is the live service's password (or AUNET_BROKER_PASSWORD)")
    // refused with the way to do it instead: a password on the command line shows in `ps`
    .addOption(new Option('--password <password>').hideHelp())
    .option('--user-store <file>', `embedded broker: operator accounts (aunet users; default ${'$'}AUNET_USER_STORE, else ~/.config/aunet/users.json)`)
    .option('--port <n>', 'embedded broker: MQTT/TCP port on 127.0.0.1 (default 1883; 0 = any free port)', integerOption('--port', { min: 0, max: 65535 }))
    .option('--http-port <n>', 'embedded broker: WebSocket and monitor port on 127.0.0.1 (default 8080; 0 = any free port)', integerOption('--http-port', { min: 0, max: 65535 }))
    .addOption(engineOption('chip (default, the chip model) or direct (whole-layer executor)'))
    .addOption(threadsOption('config threads, AUNET_THREADS, else one per core'))
    .option('--exit-at-end', 'exit when a finite source (file, folder) ends')
    .option('--afap', 'replay recorded sources as fast as possible, losslessly, instead of in real time')
    .addOption(new Option('--log-level <level>', 'log level (logs are JSON lines on stderr)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .action(async (opts: RunOpts) => {
      await runCommand(opts);
    });
}

async function runCommand(opts: RunOpts): Promise<void> {
  if (opts.password !== undefined) throw new UsageError('--password would show the password to every user of this machine (ps); put it in a file and pass --password-file FILE, or set AUNET_BROKER_PASSWORD');
  const env = process.env;
  const flags: RunFlags = {
    source: opts.source,
    model: opts.model,
    broker: opts.broker,
    device: opts.device,
    username: opts.username ?? (env.AUNET_BROKER_USERNAME || undefined),
    password: env.AUNET_BROKER_PASSWORD || undefined,
    passwordFile: opts.passwordFile,
    userStore: opts.userStore,
    port: opts.port,
    httpPort: opts.httpPort,
    engine: opts.engine,
    threads: opts.threads,
    exitAtEnd: opts.exitAtEnd,
    realtime: opts.afap ? false : undefined,
    logLevel: opts.logLevel,
  };
  const config = loadRunConfig(opts.config, flags);
  const log = pino({ level: config.log.level, base: { device: config.device } }, pino.destination(2));
  const say = (line: string) => process.stdout.write(`${line}\n`);

  // first start: an operator account with a random password, shown here once (not logged)
  const store = config.broker.url === 'embedded' ? new UserStore(config.broker.userStore ?? defaultUserStorePath()) : undefined;
  const created = store ? await createFirstOperator(store) : null;

  const service = await LiveService.start({ config, log, version: packageVersion(), operators: store });
  if (service.engine.fallback) say(`WARNING: ${service.engine.fallback}`);
  say(`aunet run: ${service.model.name} on ${service.engine.kind}${service.engine.preset ? ` (${service.engine.preset})` : ''}, ${service.engine.threads} kernel thread${service.engine.threads === 1 ? '' : 's'}, source ${config.source}, device ${config.device}`);
  if (service.broker) {
    say(`MQTT: ${service.broker.url}  WebSocket: ${service.broker.wsUrl}`);
    say(`Monitor: ${service.broker.monitorUrl}${monitorAvailable() ? '' : '  (not built yet: npm run build:monitor)'}`);
    if (created && store) say(`Operator account created (shown this once): username ${created.username}  password ${created.password}\n  stored as a hash in ${store.file}; manage accounts with \`aunet users --store ${store.file}\``);
    else if (store && !store.hasOperators()) say(`No operator account in ${store.file}: nobody can send commands; add one with \`aunet users add NAME --store ${store.file}\``);
  } else {
    say(`MQTT: ${config.broker.url.replace(/\/\/[^@/]*@/, '//***@')}`);
  }
  say('Ctrl-C to stop.');

  let stopping: Promise<void> | null = null;
  let markStopped!: () => void;
  const stopped = new Promise<void>((r) => (markStopped = r));
  const stop = (why: string): Promise<void> => {
    if (!stopping) {
      log.info({ why }, 'stopping');
      stopping = service.stop().finally(markStopped);
    }
    return stopping;
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  try {
    await Promise.race([service.done, stopped]);
  } catch (e) {
    await stop('pipeline failed');
    throw e;
  }
  // a finite source has ended: exit if asked, else stay up (state degraded) until a signal
  if (config.pipeline.exitAtEnd) await stop('source ended');
  else if (!stopping) say('Source ended; still serving. Ctrl-C to stop.');
  await stopped;
}
