// `aunet run`: stream frames through the model and publish them over MQTT
// (docs/mqtt.md). With no arguments: the shipped model on the bundled demo
// stream (the speckle phantom), embedded broker, monitor URL printed.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { DEFAULT_MODEL, loadRunConfig, type RunFlags } from '../../contracts/run-config.js';
import { FileError, UsageError } from '../../common/errors.js';
import { LiveService } from '../box/live-service.js';
import { monitorAvailable } from '../publish/static-files.js';

/** Stand-in while models/busi-lite.aunet does not exist: a random-weight model of the lite size. */
const STAND_IN_MODEL = 'random:F8x128';

/** The flags as commander parses them: the config's flags, plus --config and --afap (= realtime false). */
type RunOpts = Omit<RunFlags, 'realtime'> & { config?: string; afap?: boolean };

export function register(program: Command): void {
  program
    .command('run')
    .description('stream frames through the model and publish frames, masks and attention maps over MQTT')
    .option('--source <spec>', 'frame source: phantom:, folder:DIR, file:PATH, v4l2:/dev/videoN, dicom:PATH, rec:PATH (default: the phantom demo stream)')
    .option('--model <file>', `.aunet model (default: ${DEFAULT_MODEL}); random:F8x128 for a random-weight model`)
    .option('--broker <url>', 'embedded (default), or mqtt://, mqtts://, ws://, wss:// URL of an external broker')
    .option('--device <id>', 'device id in the topics aunet/<id>/... (default aunet-0)')
    .option('--config <file>', 'YAML or JSON config file (docs/config.md); flags override it')
    .option('--username <user>', "external broker: the runtime's username")
    .option('--password <password>', "external broker: the runtime's password")
    .option('--port <n>', 'embedded broker: MQTT/TCP port on 127.0.0.1 (default 1883; 0 = any free port)', intArg('--port'))
    .option('--http-port <n>', 'embedded broker: WebSocket and monitor port on 127.0.0.1 (default 8080; 0 = any free port)', intArg('--http-port'))
    .addOption(new Option('--engine <kind>', 'chip (default) or direct').choices(['chip', 'direct']))
    .option('--exit-at-end', 'exit when a finite source (file, folder) ends')
    .option('--afap', 'replay recorded sources as fast as possible, losslessly, instead of in real time')
    .addOption(new Option('--log-level <level>', 'log level (logs are JSON lines on stderr)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
    .action(async (opts: RunOpts) => {
      await runCommand(opts);
    });
}

async function runCommand(opts: RunOpts): Promise<void> {
  const flags: RunFlags = {
    source: opts.source,
    model: opts.model,
    broker: opts.broker,
    device: opts.device,
    username: opts.username,
    password: opts.password,
    port: opts.port,
    httpPort: opts.httpPort,
    engine: opts.engine,
    exitAtEnd: opts.exitAtEnd,
    realtime: opts.afap ? false : undefined,
    logLevel: opts.logLevel,
  };
  const config = loadRunConfig(opts.config, flags);
  const log = pino({ level: config.log.level, base: { device: config.device } }, pino.destination(2));
  const say = (line: string) => process.stdout.write(`${line}\n`);

  // The shipped model lives in the package, wherever aunet is started from. A box must never
  // silently run weights nobody trained: if it is missing, stop; the random demo model has to be named.
  if (config.model === DEFAULT_MODEL) {
    config.model = fileURLToPath(new URL(`../../${DEFAULT_MODEL}`, import.meta.url));
    if (!existsSync(config.model)) {
      throw new FileError(config.model, `the shipped model is missing from this checkout; pass --model FILE, or --model ${STAND_IN_MODEL} for a random-weight demo whose masks mean nothing`, 'NO_FILE');
    }
  }

  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const rt = await LiveService.start({ config, log, version });
  if (rt.engine.fallback) say(`WARNING: ${rt.engine.fallback}`);
  say(`aunet run: ${rt.model.name} on ${rt.engine.kind}${rt.engine.preset ? ` (${rt.engine.preset})` : ''}, source ${config.source}, device ${config.device}`);
  if (rt.broker) {
    say(`MQTT: ${rt.broker.url}  WebSocket: ${rt.broker.wsUrl}`);
    say(`Monitor: ${rt.broker.monitorUrl}${monitorAvailable() ? '' : '  (not built yet: npm run build:monitor)'}`);
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
      stopping = rt.stop().finally(markStopped);
    }
    return stopping;
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  try {
    await Promise.race([rt.done, stopped]);
  } catch (e) {
    await stop('pipeline failed');
    throw e;
  }
  // a finite source has ended: exit if asked, else stay up (state degraded) until a signal
  if (config.pipeline.exitAtEnd) await stop('source ended');
  else if (!stopping) say('Source ended; still serving. Ctrl-C to stop.');
  await stopped;
}

function intArg(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`${flag} ${v}: expected a port number 0..65535`);
    return n;
  };
}
