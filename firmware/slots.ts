// The box's storage: two slots (A/B) and one state file, every change of
// which is atomic (write a temporary file, fsync, rename, fsync the folder),
// so a power cut leaves either the old state or the new one, never a torn one.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { FileError } from '../common/errors.js';
import { formatIssues } from '../common/schema-issues.js';

export type SlotName = 'a' | 'b';
export const SLOT_NAMES: readonly SlotName[] = ['a', 'b'];

const slotInfo = z.object({
  version: z.string(),
  securityCounter: z.number().int(),
  sha256: z.string(),
  hardwareId: z.string(),
  /** the image passed a trial on this box once: only such an image is a fallback when the confirmed slot cannot boot */
  confirmed: z.boolean().default(false),
});
export type SlotInfo = z.infer<typeof slotInfo>;

const stateSchema = z.object({
  format: z.literal(1),
  /** the confirmed slot the box runs */
  active: z.enum(['a', 'b']).nullable(),
  /** a verified image waiting for its trial boots */
  pending: z.object({ slot: z.enum(['a', 'b']), activated: z.boolean(), attempts: z.number().int().min(0) }).nullable(),
  /** highest security counter confirmed: anything lower is a downgrade */
  minSecurityCounter: z.number().int().min(0),
  slots: z.object({ a: slotInfo.nullable(), b: slotInfo.nullable() }),
  /** slots whose trial boots failed, with the reason */
  rejected: z.array(z.object({ slot: z.enum(['a', 'b']), version: z.string(), reason: z.string() })).max(16),
});
export type BoxState = z.infer<typeof stateSchema>;

export const EMPTY_STATE: BoxState = { format: 1, active: null, pending: null, minSecurityCounter: 0, slots: { a: null, b: null }, rejected: [] };

export class Storage {
  constructor(readonly root: string) {
    for (const s of SLOT_NAMES) mkdirSync(this.slotDir(s), { recursive: true });
  }

  slotDir(slot: SlotName): string {
    return join(this.root, 'slots', slot);
  }
  imagePath(slot: SlotName): string {
    return join(this.slotDir(slot), 'image.aufw');
  }
  partPath(slot: SlotName): string {
    return join(this.slotDir(slot), 'image.part');
  }
  journalPath(slot: SlotName): string {
    return join(this.slotDir(slot), 'journal.json');
  }
  get statePath(): string {
    return join(this.root, 'state.json');
  }

  readState(): BoxState {
    if (!existsSync(this.statePath)) return structuredClone(EMPTY_STATE);
    // The file is only ever replaced by rename, so a parse failure means outside damage: say so loudly.
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(this.statePath, 'utf8')));
    if (!parsed.success) throw new FileError(this.statePath, `invalid box state: ${formatIssues(parsed.error.issues)}`, 'BAD_FILE');
    return parsed.data;
  }

  writeState(state: BoxState): void {
    writeAtomic(this.statePath, JSON.stringify(stateSchema.parse(state), null, 1));
  }

  readImage(slot: SlotName): Uint8Array | null {
    const p = this.imagePath(slot);
    return existsSync(p) ? readFileSync(p) : null;
  }

  removeTransfer(slot: SlotName): void {
    rmSync(this.partPath(slot), { force: true });
    rmSync(this.journalPath(slot), { force: true });
  }

  eraseSlot(slot: SlotName): void {
    this.removeTransfer(slot);
    rmSync(this.imagePath(slot), { force: true });
    fsyncDir(this.slotDir(slot));
  }
}

export function writeAtomic(file: string, text: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
