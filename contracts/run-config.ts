// The live service's configuration: one YAML or JSON file for everything the
// `aunet run` flags set (docs/config.md); flags override the file. Shape of
// changesets' config: schema -> defaults -> cross-field rules, every problem
// collected with its dotted path; the JSON Schema (docs/config.schema.json) is
// generated from this same schema and snapshot-tested.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FileError, UsageError } from '../common/errors.js';
import { DEFAULT_MODEL } from '../common/package-root.js';
import { DEFAULT_DEVICE, DEVICE_ID } from './topics.js';
import { THUMB_INTERVAL_MS } from './thumbnail.js';
import { formatIssues } from '../common/schema-issues.js';
import { readInputText } from '../common/input-file.js';
import { MAX_THREADS } from '../common/thread-count.js';

/** The embedded broker's user for the live service itself (its password is generated at start). */
export const SERVICE_USERNAME = 'aunet-service';

/** The bundled demo stream: the camera engineer's speckle phantom, endless, 30 fps. */
export const DEMO_SOURCE = 'phantom:?fps=30&frames=0';

const port = z.number().int().min(0).max(65535);
const origin = z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'must be an origin: http(s)://host[:port], no path');
const hostName = z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a DNS name');

/** Where the live service publishes (the `broker` key of the config; per-box settings use it too). */
export const BrokerSchema = z
  .strictObject({
    url: z.string().min(1).default('embedded').describe('embedded, or mqtt://, mqtts://, ws://, wss:// URL of an external broker'),
    port: port.default(1883).describe('embedded broker: MQTT over TCP on 127.0.0.1 (0 = any free port)'),
    httpPort: port.default(8080).describe('embedded broker: MQTT over WebSocket at /mqtt and the monitor, on 127.0.0.1 (0 = any free port)'),
    username: z.string().min(1).optional().describe("external broker: the live service's username (or AUNET_BROKER_USERNAME)"),
    password: z.string().min(1).optional().describe("external broker: the live service's password; prefer passwordFile or AUNET_BROKER_PASSWORD, which keep it out of config files and images"),
    passwordFile: z.string().min(1).optional().describe("external broker: a file whose first line is the live service's password"),
    users: z.unknown().optional().describe('removed: operator accounts live in the user store (aunet users add NAME)'),
    userStore: z.string().min(1).optional().describe('embedded broker: the operator account file (default $AUNET_USER_STORE, else ~/.config/aunet/users.json)'),
    allowedOrigins: z.array(origin).default([]).describe("embedded broker: web origins besides the monitor page's own that may open its WebSocket"),
    allowedHosts: z.array(hostName).default([]).describe('embedded broker: DNS names the HTTP Host header may carry besides localhost and IP addresses'),
    keepalive: z.number().int().min(1).max(600).default(5).describe('seconds; the broker publishes the Last Will after 1.5x this of silence'),
    tls: z
      .strictObject({
        ca: z.string().min(1).optional().describe('PEM file of the CA that signed the broker certificate'),
        rejectUnauthorized: z.boolean().default(true).describe('check the broker certificate (turn off only for tests)'),
      })
      .prefault({}),
  });

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('editor hint, ignored'),
    device: z.string().regex(DEVICE_ID, 'must be 1 to 64 characters of A-Z a-z 0-9 _ -').default(DEFAULT_DEVICE).describe('device id in the topics aunet/<device>/...'),
    source: z.string().min(1).default(DEMO_SOURCE).describe('frame source spec (camera/source.ts), e.g. phantom:?fps=30, folder:DIR, file:clip.mp4, v4l2:/dev/video0'),
    model: z.string().min(1).default(DEFAULT_MODEL).describe('.aunet model file'),
    engine: z.enum(['chip', 'direct']).default('chip').describe('inference through the chip model (default) or the direct executor'),
    threads: z.number().int().min(1).max(MAX_THREADS).optional().describe('threads that run the kernels, the inference thread included (default: AUNET_THREADS, else one per core)'),
    chip: z
      .strictObject({
        preset: z.string().min(1).default('default').describe('chip preset name (aunet chip --list-presets) or a chip config JSON file'),
        sramBytes: z.number().int().positive().optional().describe("override the preset's on-chip SRAM size"),
      })
      .prefault({}),
    broker: BrokerSchema.prefault({}),
    publish: z
      .strictObject({
        threshold: z.number().min(0).max(255 / 256).default(0.5).describe('mask = probability > threshold'),
        gates: z.array(z.number().int().min(1).max(4)).max(4).default([1, 2, 3, 4]).describe('attention maps included in frame messages'),
        statsIntervalMs: z.number().int().min(100).max(60000).default(1000),
        thumbnailIntervalMs: z.number().int().min(0).max(60000).default(THUMB_INTERVAL_MS).describe('thumb topic period for the fleet view (0 = none)'),
      })
      .prefault({}),
    pipeline: z
      .strictObject({
        warmupFrames: z.number().int().min(0).max(10000).default(30).describe('frames left out of latency percentiles at start'),
        realtime: z.boolean().default(true).describe('pace recorded sources (files, folders, phantom) at their frame rate; false = as fast as possible'),
        exitAtEnd: z.boolean().default(false).describe('exit when a finite source ends (default: stay up, state degraded, reason source-ended)'),
        fallbackToDirect: z.boolean().default(true).describe('if the chip engine cannot start, run the direct engine (state degraded, reason engine-fallback)'),
      })
      .prefault({}),
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  })
  .superRefine((c, ctx) => {
    const embedded = c.broker.url === 'embedded';
    if (!embedded && !/^(mqtts?|wss?):\/\/[^/]/.test(c.broker.url)) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'url'], message: `'${c.broker.url}' is not 'embedded' or an mqtt://, mqtts://, ws://, wss:// URL` });
    }
    const hasPassword = c.broker.password !== undefined || c.broker.passwordFile !== undefined;
    if ((c.broker.username === undefined) === hasPassword) {
      ctx.addIssue({ code: 'custom', path: ['broker', c.broker.username === undefined ? 'username' : 'passwordFile'], message: 'username and password (passwordFile or AUNET_BROKER_PASSWORD) go together' });
    }
    if (c.broker.password !== undefined && c.broker.passwordFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'passwordFile'], message: 'give the password one way: passwordFile or password (AUNET_BROKER_PASSWORD), not both' });
    }
    if (embedded && c.broker.username !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'username'], message: "the embedded broker generates the live service's credentials; operators are added with `aunet users add NAME`" });
    }
    if (c.broker.users !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'users'], message: 'operator passwords no longer live in the config (plain text, copied into firmware images): add each operator with `aunet users add NAME` (docs/security.md) and delete broker.users' });
    }
    if (new Set(c.publish.gates).size !== c.publish.gates.length) {
      ctx.addIssue({ code: 'custom', path: ['publish', 'gates'], message: 'gates must not repeat' });
    }
    if (embedded && c.broker.port !== 0 && c.broker.port === c.broker.httpPort) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'httpPort'], message: 'must differ from broker.port' });
    }
  });

export type RunConfig = z.infer<typeof ConfigSchema>;
export type RunConfigInput = z.input<typeof ConfigSchema>;

/** Flag values; undefined = not given. */
export interface RunFlags {
  source?: string;
  model?: string;
  broker?: string;
  device?: string;
  username?: string;
  /** from AUNET_BROKER_PASSWORD, never a flag: a flag shows in `ps` */
  password?: string;
  passwordFile?: string;
  userStore?: string;
  port?: number;
  httpPort?: number;
  engine?: string;
  threads?: number;
  exitAtEnd?: boolean;
  realtime?: boolean;
  logLevel?: string;
}

/** Where each flag lands in the config (for overrides and for error messages). */
const FLAG_PATHS: Record<keyof RunFlags, string[]> = {
  source: ['source'],
  model: ['model'],
  broker: ['broker', 'url'],
  device: ['device'],
  username: ['broker', 'username'],
  password: ['broker', 'password'],
  passwordFile: ['broker', 'passwordFile'],
  userStore: ['broker', 'userStore'],
  port: ['broker', 'port'],
  httpPort: ['broker', 'httpPort'],
  engine: ['engine'],
  threads: ['threads'],
  exitAtEnd: ['pipeline', 'exitAtEnd'],
  realtime: ['pipeline', 'realtime'],
  logLevel: ['log', 'level'],
};

const FLAG_NAMES: Record<keyof RunFlags, string> = {
  source: '--source',
  model: '--model',
  broker: '--broker',
  device: '--device',
  username: '--username',
  password: 'AUNET_BROKER_PASSWORD',
  passwordFile: '--password-file',
  userStore: '--user-store',
  port: '--port',
  httpPort: '--http-port',
  engine: '--engine',
  threads: '--threads',
  exitAtEnd: '--exit-at-end',
  realtime: '--afap',
  logLevel: '--log-level',
};

/** Read a YAML or JSON config file into a plain object (not yet validated). */
export function readConfigFile(file: string): Record<string, unknown> {
  const text = readInputText(file, 'config');
  let value: unknown;
  try {
    value = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new FileError(file, `not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`, 'BAD_CONFIG');
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new FileError(file, 'the config must be a mapping of settings', 'BAD_CONFIG');
  return value as Record<string, unknown>;
}

/**
 * Defaults <- file <- flags, validated together. Problems are reported all at
 * once, each by its dotted path, and by its flag when a flag set it.
 */
export function resolveConfig(fileValue: Record<string, unknown> = {}, flags: RunFlags = {}, file?: string): RunConfig {
  const merged = structuredClone(fileValue);
  const fromFlag = new Map<string, string>();
  for (const [k, v] of Object.entries(flags) as [keyof RunFlags, unknown][]) {
    if (v === undefined) continue;
    setPath(merged, FLAG_PATHS[k], v);
    fromFlag.set(FLAG_PATHS[k].join('.'), FLAG_NAMES[k]);
  }
  const r = ConfigSchema.safeParse(merged);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    const flag = fromFlag.get(path);
    return { ...i, path: flag ? [`${flag} (${path})`] : i.path };
  });
  const text = formatIssues(issues);
  if (file && issues.some((i) => !String(i.path[0]).startsWith('--'))) throw new FileError(file, `invalid config: ${text}`, 'BAD_CONFIG');
  throw new UsageError(`invalid settings: ${text}`);
}

/** Load `--config FILE` (if any) and apply the flags. */
export function loadRunConfig(file: string | undefined, flags: RunFlags): RunConfig {
  return resolveConfig(file ? readConfigFile(file) : {}, flags, file);
}

/** The JSON Schema of the config file (what docs/config.schema.json holds). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
}
