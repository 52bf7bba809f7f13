// Per-box settings (docs/box.md, "Per-box settings"): one signed image serves a
// fleet, so what differs from box to box — the device id, the broker and its
// credentials, the operators, the capture device — lives in ROOT/settings.yaml
// on the box and never in an image. The agent overlays it on the image's
// device configuration and validates the result with the `aunet run` schema.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { FileError } from '../common/errors.js';
import { formatIssues } from '../common/schema-issues.js';
import { DEFAULT_DEVICE, DEVICE_ID } from './topics.js';
import { BrokerSchema, readConfigFile, resolveConfig, type RunConfig } from './run-config.js';

export const BOX_SETTINGS_FILE = 'settings.yaml';
/** the box's operator accounts (`aunet users add NAME --store ROOT/users.json`) */
export const BOX_USER_STORE = 'users.json';
const SETTINGS_HINT = { hint: `fix the field in the box's ${BOX_SETTINGS_FILE} (docs/box.md, "Per-box settings")` };
const IMAGE_CONFIG_HINT = { hint: 'rebuild the image with an `aunet run` configuration without per-box settings (docs/firmware-format.md, "The config section")' };

export const BoxSettingsSchema = z.strictObject({
  $schema: z.string().optional().describe('editor hint, ignored'),
  device: z.string().regex(DEVICE_ID, 'must be 1 to 64 characters of A-Z a-z 0-9 _ -').default(DEFAULT_DEVICE).describe('this box\'s id in the topics aunet/<device>/...'),
  source: z.string().min(1).optional().describe("the capture device, e.g. v4l2:/dev/video0 (default: the image's source)"),
  broker: BrokerSchema.prefault({}).describe('where the pipeline publishes; embedded = the agent\'s own broker and monitor page'),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
});

export type BoxSettings = z.infer<typeof BoxSettingsSchema>;

/** The settings of the box whose root is `root`; defaults when the file does not exist. */
export function loadBoxSettings(root: string): { settings: BoxSettings; file: string; found: boolean } {
  const file = join(root, BOX_SETTINGS_FILE);
  const found = existsSync(file);
  const r = BoxSettingsSchema.safeParse(found ? readConfigFile(file) : {});
  if (!r.success) throw new FileError(file, `invalid box settings: ${formatIssues(r.error.issues)}`, 'BAD_CONFIG', SETTINGS_HINT);
  const settings = r.data;
  if (settings.broker.users !== undefined) throw new FileError(file, 'broker.users: operator accounts live in the user store', 'BAD_CONFIG', { hint: `add them with \`aunet users add NAME --store ${join(root, BOX_USER_STORE)}\` (docs/box.md)` });
  // the operators of the box's embedded broker: ROOT/users.json unless the settings name another store
  const store = settings.broker.userStore ?? BOX_USER_STORE;
  settings.broker.userStore = isAbsolute(store) ? store : join(root, store);
  const pw = settings.broker.passwordFile;
  if (pw && !isAbsolute(pw)) settings.broker.passwordFile = join(root, pw);
  const ca = settings.broker.tls.ca;
  if (ca && !isAbsolute(ca)) settings.broker.tls.ca = join(root, ca);
  return { settings, file, found };
}

/**
 * What an image's device configuration may not hold, each with the reason:
 * per-box settings, the model (the image's model section is the model), a
 * chip config file (it would not exist on the box), and exiting at the end of
 * a source (a box's pipeline never ends on purpose).
 */
export function imageConfigProblems(value: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of ['device', 'broker'] as const) {
    if (key in value) problems.push(`${key}: a per-box setting; set it in the box's ${BOX_SETTINGS_FILE} (docs/box.md)`);
  }
  if ('model' in value) problems.push("model: the image's model section is the model (aunet firmware build --model)");
  const preset = (value.chip as { preset?: unknown } | undefined)?.preset;
  if (typeof preset === 'string' && /[/\\]|\.json$/i.test(preset)) problems.push(`chip.preset: '${preset}' is a file; an image names a built-in preset (aunet chip --list-presets)`);
  if ((value.pipeline as { exitAtEnd?: unknown } | undefined)?.exitAtEnd === true) problems.push('pipeline.exitAtEnd: a box keeps its pipeline running');
  return problems;
}

/** An image's configuration section: a JSON object without what imageConfigProblems names; errors name `file`. */
export function readImageConfig(bytes: Uint8Array, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new FileError(file, `configuration section is not JSON: ${(e as Error).message}`, 'BAD_CONFIG', IMAGE_CONFIG_HINT);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FileError(file, 'configuration section is not a JSON object', 'BAD_CONFIG', IMAGE_CONFIG_HINT);
  const problems = imageConfigProblems(value as Record<string, unknown>);
  if (problems.length) throw new FileError(file, `configuration section holds ${problems.join('; ')}`, 'BAD_CONFIG', IMAGE_CONFIG_HINT);
  return value as Record<string, unknown>;
}

/** The configuration a box runs: defaults <- the image's configuration <- the box's settings. */
export function boxRunConfig(imageConfig: Record<string, unknown>, settings: BoxSettings, file: string): RunConfig {
  // imageConfig comes from readImageConfig, which has refused per-box keys
  const { device, source, broker, log } = settings;
  return resolveConfig({ ...imageConfig, device, ...(source ? { source } : {}), broker, log }, {}, file);
}
