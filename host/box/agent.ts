// The on-box agent: answers the serial protocol (docs/serial-protocol.md),
// writes only the inactive slot, verifies before marking pending, and runs the
// boot sequence (firmware/boot.ts). It handles one request at a time, in order.
import { createHash, type KeyObject } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import { boot, type BootReport, type SelfTest } from '../../firmware/boot.js';
import { ImageError, checkPolicy, parseHead, verifyHeadSignature, verifyImage } from '../../firmware/image.js';
import { COMMANDS, PRODUCTION_COMMANDS, STATUS, type StatusName } from '../../firmware/protocol.js';
import { REQUEST, RESPONSE, type Packet } from '../../firmware/packet.js';
import { fsyncDir, SLOT_NAMES, type BoxState, type SlotName, type Storage } from '../../firmware/slots.js';
import { Transfer } from '../../firmware/transfer.js';
import type { PacketLink } from '../../firmware/link.js';

export const PROTOCOL_VERSION = 1;
const MAX_QUEUED = 64;

export interface AgentOptions {
  storage: Storage;
  publicKey: KeyObject;
  hardwareId: string;
  selfTest: SelfTest;
  production?: boolean;
  chunkSize?: number;
  window?: number;
  maxTrialBoots?: number;
  /** a transfer with no frame for this long is suspended (its journal stays) */
  inputTimeoutMs?: number;
  point?: (name: string) => void;
  log?: (msg: string) => void;
}

class Refusal extends Error {
  constructor(readonly status: StatusName, message: string) {
    super(message);
  }
}

export class Agent {
  private transfer: Transfer | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  lastBoot: BootReport | null = null;
  readonly chunkSize: number;
  readonly window: number;
  private readonly point: (name: string) => void;

  constructor(private opts: AgentOptions) {
    this.chunkSize = opts.chunkSize ?? 4096;
    this.window = opts.window ?? 8;
    this.point = opts.point ?? (() => {});
  }

  async boot(): Promise<BootReport> {
    this.suspend();
    const { storage, publicKey, hardwareId, selfTest } = this.opts;
    this.lastBoot = await boot({ storage, publicKey, hardwareId, selfTest, maxTrialBoots: this.opts.maxTrialBoots ?? 3, point: this.point });
    this.opts.log?.(`boot: running ${this.lastBoot.running ?? 'nothing'} ${this.lastBoot.version ?? ''}${this.lastBoot.trial ? ` (trial ${this.lastBoot.trial.result}: ${this.lastBoot.trial.detail})` : ''}`);
    return this.lastBoot;
  }

  /** Answer one request. Never throws: every failure becomes a status. */
  async handle(req: Packet): Promise<Packet | null> {
    if (req.direction !== REQUEST) return null;
    this.touch();
    const reply = (status: number, body: Uint8Array = new Uint8Array(0)): Packet => {
      const payload = new Uint8Array(1 + body.length);
      payload[0] = status;
      payload.set(body, 1);
      return { direction: RESPONSE, command: req.command, seq: req.seq, payload };
    };
    try {
      if (this.opts.production && !PRODUCTION_COMMANDS.has(req.command)) {
        throw new Refusal('NOT_ALLOWED', 'production mode accepts only flashing commands');
      }
      const body = await this.dispatch(req);
      return reply(STATUS.OK, body);
    } catch (e) {
      if (e instanceof Refusal) return reply(STATUS[e.status], text(e.message));
      if (e instanceof ImageError) return reply(STATUS[e.code], text(e.message));
      this.opts.log?.(`agent: ${(e as Error).stack}`);
      return reply(STATUS.IO_ERROR, text((e as Error).message));
    }
  }

  private async dispatch(req: Packet): Promise<Uint8Array> {
    switch (req.command) {
      case COMMANDS.HELLO:
      case COMMANDS.STATUS:
        return text(JSON.stringify(this.info(req.command === COMMANDS.STATUS)));
      case COMMANDS.BEGIN:
        return text(JSON.stringify(this.begin(req.payload)));
      case COMMANDS.DATA:
        return this.data(req.payload);
      case COMMANDS.END:
        return text(JSON.stringify(this.end(req.payload)));
      case COMMANDS.ACTIVATE:
        return text(JSON.stringify(this.activate()));
      case COMMANDS.REBOOT:
        // Answer first; the boot runs after the reply has gone out.
        setImmediate(() => void this.boot());
        return new Uint8Array(0);
      case COMMANDS.READ_STATE:
        return readFileSync(this.opts.storage.statePath);
      case COMMANDS.ERASE_SLOT:
        return this.erase(req.payload);
      default:
        throw new Refusal('UNKNOWN_COMMAND', `command 0x${req.command.toString(16)}`);
    }
  }

  info(withTransfer = false): Record<string, unknown> {
    const s = this.opts.storage.readState();
    const slot = (n: SlotName) => (s.slots[n] ? { ...s.slots[n], state: slotState(s, n) } : { state: 'empty' });
    return {
      protocol: PROTOCOL_VERSION,
      hardwareId: this.opts.hardwareId,
      mode: this.opts.production ? 'production' : 'development',
      state: this.transfer ? 'receiving' : 'idle',
      running: this.lastBoot?.running ?? null,
      active: s.active,
      pending: s.pending,
      minSecurityCounter: s.minSecurityCounter,
      slots: { a: slot('a'), b: slot('b') },
      rejected: s.rejected,
      window: this.window,
      chunkSize: this.chunkSize,
      ...(withTransfer && this.transfer ? { transfer: { acked: this.transfer.acked, chunks: this.transfer.chunks } } : {}),
    };
  }

  private inactiveSlot(state: BoxState): SlotName {
    const running = this.lastBoot?.running ?? state.active;
    return running === 'a' ? 'b' : running === 'b' ? 'a' : state.active === 'a' ? 'b' : 'a';
  }

  private begin(payload: Uint8Array): { nextChunk: number; chunks: number; chunkSize: number; slot: SlotName } {
    const parsed = parseHead(payload);
    if (payload.length !== parsed.signedLength) throw new Refusal('BAD_REQUEST', `BEGIN carries ${payload.length} bytes, the image head is ${parsed.signedLength}`);
    verifyHeadSignature(payload, parsed, this.opts.publicKey);
    const state = this.opts.storage.readState();
    checkPolicy(parsed.manifest, { hardwareId: this.opts.hardwareId, minSecurityCounter: state.minSecurityCounter });
    const slot = this.inactiveSlot(state);
    // The inactive slot is about to be overwritten: forget what it held first.
    if (state.slots[slot] || state.pending?.slot === slot) {
      state.slots[slot] = null;
      if (state.pending?.slot === slot) state.pending = null;
      this.opts.storage.writeState(state);
    }
    this.transfer?.close();
    const size = parsed.signedLength + parsed.payloadLength;
    const headSha256 = createHash('sha256').update(payload).digest('hex');
    this.transfer = Transfer.open(this.opts.storage, { slot, headSha256, size, chunkSize: this.chunkSize }, this.point);
    return { nextChunk: this.transfer.acked, chunks: this.transfer.chunks, chunkSize: this.chunkSize, slot };
  }

  private data(payload: Uint8Array): Uint8Array {
    if (!this.transfer) throw new Refusal('BAD_STATE', 'DATA without BEGIN');
    if (payload.length < 4) throw new Refusal('BAD_REQUEST', 'DATA needs a 4-byte chunk index');
    const index = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
    let acked: number;
    try {
      acked = this.transfer.write(index, payload.subarray(4));
    } catch (e) {
      if (e instanceof RangeError) throw new Refusal('BAD_REQUEST', e.message);
      throw e;
    }
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, acked, true);
    return out;
  }

  private end(payload: Uint8Array): { slot: SlotName; version: string } {
    const t = this.transfer;
    if (!t) throw new Refusal('BAD_STATE', 'END without BEGIN');
    if (!t.complete) throw new Refusal('BAD_STATE', `END after ${t.acked} of ${t.chunks} chunks`);
    if (payload.length !== 32) throw new Refusal('BAD_REQUEST', 'END needs the 32-byte SHA-256 of the image');
    t.sync();
    const { slot } = t.plan;
    const storage = this.opts.storage;
    const bytes = readFileSync(storage.partPath(slot));
    this.point('verify');
    if (createHash('sha256').update(bytes).digest('hex') !== Buffer.from(payload).toString('hex')) {
      throw new Refusal('HASH_MISMATCH', 'the received image does not hash to the SHA-256 the host sent');
    }
    const state = storage.readState();
    const img = verifyImage(bytes, this.opts.publicKey, { hardwareId: this.opts.hardwareId, minSecurityCounter: state.minSecurityCounter });
    t.close();
    this.transfer = null;
    renameSync(storage.partPath(slot), storage.imagePath(slot));
    fsyncDir(storage.slotDir(slot));
    this.point('mark-pending');
    const m = img.manifest;
    state.slots[slot] = { version: m.version, securityCounter: m.securityCounter, sha256: img.sha256, hardwareId: m.hardwareId };
    state.pending = { slot, activated: false, attempts: 0 };
    storage.writeState(state);
    storage.removeTransfer(slot);
    return { slot, version: m.version };
  }

  private activate(): { pending: SlotName } {
    const state = this.opts.storage.readState();
    if (!state.pending) throw new Refusal('BAD_STATE', 'no verified image is pending');
    state.pending.activated = true;
    this.point('activate');
    this.opts.storage.writeState(state);
    return { pending: state.pending.slot };
  }

  private erase(payload: Uint8Array): Uint8Array {
    const slot = String.fromCharCode(payload[0] ?? 0) as SlotName;
    if (!SLOT_NAMES.includes(slot)) throw new Refusal('BAD_REQUEST', 'ERASE_SLOT needs "a" or "b"');
    const state = this.opts.storage.readState();
    if (state.active === slot || this.lastBoot?.running === slot) throw new Refusal('BAD_STATE', `slot ${slot} is the running slot`);
    state.slots[slot] = null;
    if (state.pending?.slot === slot) state.pending = null;
    this.opts.storage.writeState(state);
    this.opts.storage.eraseSlot(slot);
    return new Uint8Array(0);
  }

  /** Input timeout: a silent transfer is suspended so a broken host cannot wedge the box. */
  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const ms = this.opts.inputTimeoutMs ?? 30_000;
    this.idleTimer = setTimeout(() => {
      if (this.transfer) this.opts.log?.(`agent: no input for ${ms} ms, transfer suspended at chunk ${this.transfer.acked}`);
      this.suspend();
    }, ms);
    this.idleTimer.unref();
  }

  private suspend(): void {
    if (this.transfer) {
      this.transfer.sync();
      this.transfer.close();
    }
    this.transfer = null;
  }

  /** Answer requests arriving on a link, one at a time and in order; returns a detach function. */
  serve(link: PacketLink): () => void {
    let chain = Promise.resolve();
    let queued = 0;
    return link.onPacket((p) => {
      // A flood cannot grow memory without bound: beyond the queue limit requests are dropped, as on a wire.
      if (queued >= MAX_QUEUED) return;
      queued++;
      chain = chain.then(async () => {
        const r = await this.handle(p);
        queued--;
        if (r) link.send(r);
      });
    });
  }

  close(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.suspend();
  }
}

function slotState(s: BoxState, n: SlotName): string {
  if (s.active === n) return 'confirmed';
  if (s.pending?.slot === n) return s.pending.activated ? 'trial' : 'pending';
  return 'inactive';
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
