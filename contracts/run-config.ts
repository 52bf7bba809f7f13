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

/** The embedded broker's user for the live service itself (its password is generated at start). */
export const SERVICE_USERNAME = 'aunet-service';

/** The bundled demo stream: the camera engineer's speckle phantom, endless, 30 fps. */
export const DEMO_SOURCE = 'phantom:?fps=30&frames=0';

const port = z.number().int().min(0).max(65535);
const user = z.strictObject({ username: z.string().min(1), password: z.string().min(1) });

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('editor hint, ignored'),
    device: z.string().regex(DEVICE_ID, 'must be 1 to 64 characters of A-Z a-z 0-9 _ -').default(DEFAULT_DEVICE).describe('device id in the topics aunet/<device>/...'),
    source: z.string().min(1).default(DEMO_SOURCE).describe('frame source spec (camera/source.ts), e.g. phantom:?fps=30, folder:DIR, file:clip.mp4, v4l2:/dev/video0'),
    model: z.string().min(1).default(DEFAULT_MODEL).describe('.aunet model file'),
    engine: z.enum(['chip', 'direct']).default('chip').describe('inference through the chip model (default) or the direct executor'),
    chip: z
      .strictObject({
        preset: z.string().min(1).default('default').describe('chip preset name (aunet chip --list-presets) or a chip config JSON file'),
        sramBytes: z.number().int().positive().optional().describe("override the preset's on-chip SRAM size"),
      })
      .prefault({}),
    broker: z
      .strictObject({
        url: z.string().min(1).default('embedded').describe('embedded, or mqtt://, mqtts://, ws://, wss:// URL of an external broker'),
        port: port.default(1883).describe('embedded broker: MQTT over TCP on 127.0.0.1 (0 = any free port)'),
        httpPort: port.default(8080).describe('embedded broker: MQTT over WebSocket at /mqtt and the monitor, on 127.0.0.1 (0 = any free port)'),
        username: z.string().min(1).optional().describe("external broker: the live service's username"),
        password: z.string().min(1).optional().describe("external broker: the live service's password"),
        users: z.array(user).default([]).describe('embedded broker: operators allowed to send commands'),
        keepalive: z.number().int().min(1).max(600).default(5).describe('seconds; the broker publishes the Last Will after 1.5x this of silence'),
        tls: z
          .strictObject({
            ca: z.string().min(1).optional().describe('PEM file of the CA that signed the broker certificate'),
            rejectUnauthorized: z.boolean().default(true).describe('check the broker certificate (turn off only for tests)'),
          })
          .prefault({}),
      })
      .prefault({}),
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
    if ((c.broker.username === undefined) !== (c.broker.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['broker', c.broker.username === undefined ? 'username' : 'password'], message: 'username and password go together' });
    }
    if (embedded && c.broker.username !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'username'], message: 'the embedded broker generates the live service\'s credentials; list operators under broker.users' });
    }
    if (!embedded && c.broker.users.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'users'], message: 'only for the embedded broker; configure users on the external broker' });
    }
    if (new Set(c.broker.users.map((u) => u.username)).size !== c.broker.users.length) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'users'], message: 'usernames must be unique' });
    }
    if (c.broker.users.some((u) => u.username === SERVICE_USERNAME)) {
      ctx.addIssue({ code: 'custom', path: ['broker', 'users'], message: `'${SERVICE_USERNAME}' is reserved for the live service itself` });
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
  password?: string;
  port?: number;
  httpPort?: number;
  engine?: string;
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
  port: ['broker', 'port'],
  httpPort: ['broker', 'httpPort'],
  engine: ['engine'],
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
  password: '--password',
  port: '--port',
  httpPort: '--http-port',
  engine: '--engine',
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
