// The boot policy (MCUboot's test-then-confirm, with a pipeline that must pass
// a self-test and stay healthy before a trial confirms): which slot boots, on
// trial or confirmed, and the two ways a trial ends. The attempt is counted in
// the state *before* the trial runs, so a power cut or crash during a trial
// counts too; after maxTrialBoots boots without confirming, the trial is
// abandoned. No image below the box's minimum security counter ever boots: a
// box with nothing bootable stays in a "no image" state that still accepts a
// flash (docs/serial-protocol.md, "Slots and boot").
import type { KeyObject } from 'node:crypto';
import { verifyImage, type ParsedImage } from './image.js';
import { SLOT_NAMES, type BoxState, type SlotName, type Storage } from './slots.js';

export interface BootOptions {
  storage: Storage;
  publicKey: KeyObject;
  hardwareId: string;
  maxTrialBoots: number;
  /** fault-injection hook: called at each named step (tests kill the process there) */
  point?: (name: string) => void;
}

export interface BootDecision {
  /** the slot to run, null when nothing can boot */
  slot: SlotName | null;
  image: ParsedImage | null;
  /** set when the slot runs on trial: this is its attempt-th boot */
  trial: { attempt: number } | null;
  /** a trial abandoned at this boot (too many boots without confirming, or it no longer verifies) */
  abandoned: { slot: SlotName; version: string; reason: string } | null;
  /** when slot is null: why nothing boots; else why the confirmed slot is not the one running, if it is not */
  reason: string | null;
}

export function chooseBoot(opts: BootOptions): BootDecision {
  const { storage, point = () => {} } = opts;
  const state = storage.readState();
  let abandoned: BootDecision['abandoned'] = null;

  if (state.pending?.activated) {
    const slot = state.pending.slot;
    const v = loadVerified(opts, slot, state);
    const exhausted = state.pending.attempts >= opts.maxTrialBoots;
    if (!exhausted && v.image) {
      state.pending.attempts += 1;
      storage.writeState(state);
      point('boot-trial');
      return { slot, image: v.image, trial: { attempt: state.pending.attempts }, abandoned: null, reason: null };
    }
    const reason = exhausted ? `${state.pending.attempts} trial boots ended without confirming (power cut or agent crash during the trial)` : (v.reason ?? 'does not verify');
    abandoned = { slot, version: state.slots[slot]?.version ?? '?', reason };
    rejectPending(storage, state, reason);
  }

  // The confirmed slot if it verifies; else the other one, only if it once passed a trial here and
  // verifies at or above the minimum (a rejected or never-tried image is no fallback).
  const problems: string[] = [];
  const order: SlotName[] = state.active ? [state.active, ...SLOT_NAMES.filter((s) => s !== state.active)] : [...SLOT_NAMES];
  for (const slot of order) {
    const info = state.slots[slot];
    if (!info || state.pending?.slot === slot) continue;
    if (slot !== state.active && !info.confirmed) {
      problems.push(`slot ${slot} (${info.version}) never passed a trial here`);
      continue;
    }
    const v = loadVerified(opts, slot, state);
    if (v.image) {
      const reason = slot === state.active ? null : `confirmed slot ${state.active ?? '(none)'} cannot boot (${problems.join('; ') || 'none confirmed'}); running slot ${slot}`;
      return { slot, image: v.image, trial: null, abandoned, reason };
    }
    problems.push(v.reason ?? `slot ${slot} does not verify`);
  }
  const reason = problems.length ? `no slot can boot: ${problems.join('; ')}` : state.pending ? 'the only image is waiting to be activated (aunet flash activates it)' : 'no image has been flashed';
  return { slot: null, image: null, trial: null, abandoned, reason };
}

/** The trial slot passed: it becomes the confirmed slot and raises the anti-rollback minimum. */
export function confirmTrial(storage: Storage, slot: SlotName, point: (name: string) => void = () => {}): void {
  const state = storage.readState();
  if (state.pending?.slot !== slot) return;
  const info = state.slots[slot]!;
  info.confirmed = true;
  state.active = slot;
  state.minSecurityCounter = Math.max(state.minSecurityCounter, info.securityCounter);
  state.pending = null;
  storage.writeState(state);
  point('confirm');
}

/** The trial slot failed: forget the trial (the confirmed slot boots next) and record why. */
export function rejectTrial(storage: Storage, slot: SlotName, reason: string): void {
  const state = storage.readState();
  if (state.pending?.slot === slot) rejectPending(storage, state, reason);
}

function rejectPending(storage: Storage, state: BoxState, reason: string): void {
  const slot = state.pending!.slot;
  state.rejected = [...state.rejected.slice(-15), { slot, version: state.slots[slot]?.version ?? '?', reason }];
  state.pending = null;
  storage.writeState(state);
}

/** The slot's image if it verifies (signature, hashes, hardware, security counter at or above the minimum). */
function loadVerified(opts: BootOptions, slot: SlotName, state: BoxState): { image: ParsedImage; reason?: undefined } | { image: null; reason: string } {
  const bytes = opts.storage.readImage(slot);
  const info = state.slots[slot];
  const name = `slot ${slot}${info ? ` (${info.version})` : ''}`;
  if (!bytes || !info) return { image: null, reason: `${name} holds no image` };
  try {
    const image = verifyImage(bytes, opts.publicKey, { hardwareId: opts.hardwareId, minSecurityCounter: state.minSecurityCounter });
    return image.sha256 === info.sha256 ? { image } : { image: null, reason: `${name} holds another image than the state records` };
  } catch (e) {
    return { image: null, reason: `${name}: ${(e as Error).message}` };
  }
}
