// The boot sequence (MCUboot's test-then-confirm, extended with a model
// self-test): a pending, activated slot boots on trial; the attempt is counted
// *before* the self-test runs, so a crash during the test still counts; the
// slot is confirmed only when the self-test passes, and abandoned after
// maxTrialBoots failures. Whatever happens, the box then runs the newest slot
// that verifies: the confirmed one, else the other one if it verifies too.
import type { KeyObject } from 'node:crypto';
import { verifyImage, type ParsedImage } from './image.js';
import { SLOT_NAMES, type BoxState, type SlotName, type Storage } from './slots.js';

export interface SelfTestResult {
  ok: boolean;
  detail: string;
}
export type SelfTest = (image: ParsedImage) => Promise<SelfTestResult>;

export interface BootOptions {
  storage: Storage;
  publicKey: KeyObject;
  hardwareId: string;
  selfTest: SelfTest;
  maxTrialBoots: number;
  /** fault-injection hook: called at each named step (tests kill the process there) */
  point?: (name: string) => void;
}

export interface BootReport {
  /** slot running after boot, null when the box holds no valid image */
  running: SlotName | null;
  version: string | null;
  trial?: { slot: SlotName; attempt: number; result: 'confirmed' | 'failed' | 'reverted'; detail: string };
  warnings: string[];
}

export async function boot(opts: BootOptions): Promise<BootReport> {
  const { storage, point = () => {} } = opts;
  const state = storage.readState();
  const warnings: string[] = [];
  let trial: BootReport['trial'];

  if (state.pending?.activated) {
    const slot = state.pending.slot;
    state.pending.attempts += 1;
    storage.writeState(state);
    point('boot-trial');
    const attempt = state.pending.attempts;
    const result = await trySlot(opts, slot, state);
    point('self-test');
    if (result.ok) {
      const info = state.slots[slot]!;
      state.active = slot;
      state.minSecurityCounter = Math.max(state.minSecurityCounter, info.securityCounter);
      state.pending = null;
      storage.writeState(state);
      point('confirm');
      trial = { slot, attempt, result: 'confirmed', detail: result.detail };
    } else if (attempt >= opts.maxTrialBoots) {
      state.rejected = [...state.rejected.slice(-15), { slot, version: state.slots[slot]?.version ?? '?', reason: result.detail }];
      state.pending = null;
      storage.writeState(state);
      trial = { slot, attempt, result: 'reverted', detail: result.detail };
    } else {
      trial = { slot, attempt, result: 'failed', detail: result.detail };
    }
  }

  // Run the confirmed slot if it verifies; otherwise fall back to the other slot.
  const order: SlotName[] = state.active ? [state.active, ...SLOT_NAMES.filter((s) => s !== state.active)] : [...SLOT_NAMES];
  for (const slot of order) {
    const info = state.slots[slot];
    if (!info || (state.pending?.slot === slot && slot !== state.active)) continue;
    const img = loadVerified(opts, slot, state);
    if (img) {
      if (slot !== state.active) warnings.push(`confirmed slot ${state.active ?? '(none)'} does not verify; running slot ${slot}`);
      return { running: slot, version: img.manifest.version, trial, warnings };
    }
    warnings.push(`slot ${slot} (${info.version}) does not verify`);
  }
  return { running: null, version: null, trial, warnings };
}

async function trySlot(opts: BootOptions, slot: SlotName, state: BoxState): Promise<{ ok: boolean; detail: string }> {
  const img = loadVerified(opts, slot, state);
  if (!img) return { ok: false, detail: `slot ${slot} image does not verify` };
  try {
    return await opts.selfTest(img);
  } catch (e) {
    return { ok: false, detail: `self-test crashed: ${(e as Error).message}` };
  }
}

function loadVerified(opts: BootOptions, slot: SlotName, state: BoxState): ParsedImage | null {
  const bytes = opts.storage.readImage(slot);
  const info = state.slots[slot];
  if (!bytes || !info) return null;
  try {
    const img = verifyImage(bytes, opts.publicKey, { hardwareId: opts.hardwareId, minSecurityCounter: 0 });
    return img.sha256 === info.sha256 ? img : null;
  } catch {
    return null;
  }
}
