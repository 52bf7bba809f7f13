// Pure validators for `aunet/<device>/cmd` messages (docs/mqtt.md, "cmd").
// No Node imports: the monitor uses the same schema to build commands.
import { z } from 'zod';
import { formatIssues } from '../common/schema-issues.js';

export const MAX_CMD_BYTES = 4096;

const id = z.string().max(64).optional();

export const CommandSchema = z.discriminatedUnion('cmd', [
  z.strictObject({ cmd: z.literal('pause'), id }),
  z.strictObject({ cmd: z.literal('resume'), id }),
  z.strictObject({
    cmd: z.literal('threshold'),
    id,
    value: z.number().min(0).max(255 / 256, { message: 'must be at most 0.996 (255/256)' }),
  }),
  z.strictObject({
    cmd: z.literal('gates'),
    id,
    gates: z
      .array(z.number().int().min(1).max(4))
      .max(4)
      .refine((g) => new Set(g).size === g.length, { message: 'gates must not repeat' }),
  }),
]);

export type Command = z.infer<typeof CommandSchema>;

export type CommandResult = { ok: true; command: Command } | { ok: false; id: string | null; error: string };

/** Parse a cmd payload; never throws. Errors name the field by its dotted path. */
export function parseCommand(payload: Uint8Array | string): CommandResult {
  const size = typeof payload === 'string' ? payload.length : payload.byteLength;
  if (size > MAX_CMD_BYTES) return { ok: false, id: null, error: `command of ${size} bytes exceeds ${MAX_CMD_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (e) {
    return { ok: false, id: null, error: `not JSON: ${(e as Error).message}` };
  }
  const rawId = json && typeof json === 'object' && typeof (json as { id?: unknown }).id === 'string' ? (json as { id: string }).id.slice(0, 64) : null;
  const r = CommandSchema.safeParse(json);
  if (!r.success) return { ok: false, id: rawId, error: formatIssues(r.error.issues) };
  return { ok: true, command: r.data };
}

/** Probability threshold (0..1) -> the byte threshold t of `prob > t`. */
export function thresholdByte(value: number): number {
  return Math.min(255, Math.max(0, Math.round(value * 256)));
}
