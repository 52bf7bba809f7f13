// aunet fleet: many boxes on one broker, simulated (docs/fleet.md).
//   aunet fleet record   --broker URL --device ID --frames N --out FILE
//   aunet fleet simulate --broker URL --messages FILE --devices N [--fps R]
// `record` keeps frame messages a real live service published; `simulate`
// replays them as N boxes, to measure what one broker and one monitor page
// carry (tests/perf/fleet.bench.ts prints the figures).
import type { Command } from 'commander';
import mqtt from 'mqtt';
import { UsageError } from '../../common/errors.js';
import { integerOption, parseNumber } from '../../common/cli-args.js';
import { readInputFile, readPasswordFile } from '../../common/input-file.js';
import { packageVersion } from '../../common/package-root.js';
import { DEVICE_ID, topicsFor } from '../../contracts/topics.js';
import { decodeFrameMessage } from '../../contracts/frame-message.js';
import { THUMB_INTERVAL_MS } from '../../contracts/thumbnail.js';
import { readMessageRecording, writeMessageRecording } from '../publish/message-recording.js';
import { FleetSimulator } from '../publish/fleet-simulator.js';
import { PublishError, redact } from '../publish/client.js';

interface BrokerOpts {
  broker: string;
  username?: string;
  passwordFile?: string;
  ca?: string;
}

/** The broker account: --username or AUNET_BROKER_USERNAME, the password from --password-file or AUNET_BROKER_PASSWORD (never a flag: `ps` shows flags). */
function account(o: BrokerOpts): { username?: string; password?: string } {
  const username = o.username ?? (process.env.AUNET_BROKER_USERNAME || undefined);
  const password = o.passwordFile ? readPasswordFile(o.passwordFile, 'the broker password file (--password-file)') : process.env.AUNET_BROKER_PASSWORD || undefined;
  return { username, password };
}

function brokerUrl(url: string): string {
  if (!/^(mqtts?|wss?):\/\/[^/]/.test(url)) throw new UsageError(`--broker ${url}: give mqtt://HOST:PORT, mqtts://, ws:// or wss://`);
  return url;
}

export function register(program: Command): void {
  const fleet = program.command('fleet').description('record frame messages of a box and replay them as a simulated fleet');
  const brokerOptions = (c: Command) =>
    c
      .requiredOption('--broker <url>', 'mqtt://HOST:PORT (or mqtts://, ws://, wss://)')
      .option('--username <user>', 'broker username (or AUNET_BROKER_USERNAME)')
      .option('--password-file <file>', 'file whose first line is the broker password (or AUNET_BROKER_PASSWORD)')
      .option('--ca <file>', 'PEM CA of an mqtts:// or wss:// broker');

  brokerOptions(fleet.command('record'))
    .description('keep the next frame messages a device publishes, in a file for `aunet fleet simulate`')
    .requiredOption('--device <id>', 'device to record')
    .requiredOption('--out <file>', 'the recording to write')
    .option('--frames <n>', 'messages to keep', integerOption('--frames', { min: 1, max: 10_000 }), 30)
    .option('--timeout <s>', 'give up after this many seconds without them', integerOption('--timeout', { min: 1, max: 3600 }), 60)
    .action(async (o: BrokerOpts & { device: string; out: string; frames: number; timeout: number }) => {
      if (!DEVICE_ID.test(o.device)) throw new UsageError(`--device ${o.device}: 1 to 64 characters of A-Z a-z 0-9 _ -`);
      const client = await connect(o);
      const got: Uint8Array[] = [];
      const topic = topicsFor(o.device).frame;
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new UsageError(`only ${got.length} of ${o.frames} frame messages on ${topic} within ${o.timeout} s: is device ${o.device} running on ${redact(o.broker)}?`)), o.timeout * 1000);
          client.on('message', (_t, payload) => {
            const m = new Uint8Array(payload);
            try {
              decodeFrameMessage(m);
            } catch {
              return; // not a frame message: not kept
            }
            got.push(m);
            if (got.length >= o.frames) {
              clearTimeout(timer);
              resolve();
            }
          });
          client.subscribe(topic, { qos: 0 });
        });
      } finally {
        await client.endAsync();
      }
      writeMessageRecording(o.out, got);
      process.stdout.write(`${o.out}: ${got.length} frame messages of ${o.device} (${got.reduce((n, m) => n + m.length, 0)} bytes)\n`);
    });

  brokerOptions(fleet.command('simulate'))
    .description('replay recorded frame messages as N boxes (status, stats, thumbnails, frames) until Ctrl-C')
    .requiredOption('--messages <file>', 'frame messages from `aunet fleet record`')
    .option('--devices <n>', 'simulated boxes', integerOption('--devices', { min: 1, max: 5000 }), 10)
    .option('--fps <r>', 'frame messages per second per box (0 = none: status, stats and thumbnails only)', '2')
    .option('--prefix <name>', 'device ids are PREFIX-001, PREFIX-002, ...', 'sim')
    .option('--thumbnail-interval <ms>', 'thumbnail period per box', integerOption('--thumbnail-interval', { min: 0, max: 60_000 }), THUMB_INTERVAL_MS)
    .option('--report <s>', 'print the rates every this many seconds', integerOption('--report', { min: 1, max: 3600 }), 5)
    .action(async (o: BrokerOpts & { messages: string; devices: number; fps: string; prefix: string; thumbnailInterval: number; report: number }) => {
      const fps = parseNumber(o.fps, '--fps', { min: 0, max: 120 });
      if (!DEVICE_ID.test(`${o.prefix}-000`) || o.prefix.length > 60) throw new UsageError(`--prefix ${o.prefix}: up to 60 characters of A-Z a-z 0-9 _ -`);
      const messages = readMessageRecording(o.messages);
      const sim = await FleetSimulator.start({
        url: brokerUrl(o.broker),
        ...account(o),
        ca: o.ca ? readInputFile(o.ca, 'the broker CA certificate (--ca)') : undefined,
        devices: o.devices,
        prefix: o.prefix,
        fps,
        thumbnailIntervalMs: o.thumbnailInterval,
        statsIntervalMs: 1000,
        messages,
        version: packageVersion(),
      }).catch((e: unknown) => {
        throw e instanceof PublishError ? e : new PublishError(`cannot start the simulated boxes on ${redact(o.broker)}: ${(e as Error).message}`, 'BROKER_TIMEOUT');
      });
      process.stdout.write(`Simulating ${o.devices} boxes (${o.prefix}-001 ...) on ${redact(o.broker)} at ${fps} frames/s each from ${messages.length} recorded messages. Ctrl-C to stop.\n`);
      let last = { ...sim.counters };
      const report = setInterval(() => {
        const c = sim.counters;
        const r = (k: keyof typeof c) => ((c[k] - last[k]) / o.report).toFixed(1);
        process.stdout.write(`frames ${r('frames')}/s  thumbs ${r('thumbs')}/s  stats ${r('stats')}/s  dropped ${r('dropped')}/s  late ${r('late')}/s\n`);
        last = { ...c };
      }, o.report * 1000);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(report);
      await sim.stop();
    });
}

async function connect(o: BrokerOpts): Promise<mqtt.MqttClient> {
  try {
    return await mqtt.connectAsync(brokerUrl(o.broker), {
      ...account(o),
      ca: o.ca ? readInputFile(o.ca, 'the broker CA certificate (--ca)') : undefined,
      connectTimeout: 5000,
      reconnectPeriod: 0,
    });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new PublishError(`cannot connect to ${redact(o.broker)}: ${(e as Error).message}`, 'BROKER_TIMEOUT');
  }
}
