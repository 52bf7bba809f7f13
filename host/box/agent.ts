// The serial side of the on-box agent: answers the protocol of
// docs/serial-protocol.md, writes only the slot the pipeline does not run
// from, verifies before marking pending, and asks the box (host/box/box.ts)
// to boot again on REBOOT. It handles one request at a time, in order, and
// logs every transfer, refusal and activation as a JSON line.
import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import type { Logger } from 'pino';
import { ImageError, checkPolicy, compareVersions, parseHead, verifyHeadSignature, verifyImage, type Manifest } from '../../firmware/image.js';
import { BEGIN_FLAGS, COMMANDS, PRODUCTION_COMMANDS, PROTOCOL_VERSION, STATUS, commandName, type StatusName } from '../../firmware/protocol.js';
import { REQUEST, RESPONSE, type Packet } from '../../firmware/packet.js';
import { fsyncDir, SLOT_NAMES, type BoxState, type SlotName, type Storage } from '../../firmware/slots.js';
import { HeadBuffer, Transfer } from '../../firmware/transfer.js';
import type { PacketLink } from '../../firmware/link.js';
import { silentLog } from './box-log.js';

const MAX_QUEUED = 64;

/** What the serial side needs of the box that runs the pipeline. */
export interface BoxControl {
  /** the image the pipeline runs from (null: no image) and the SHA-256 of its signed head */
  running(): { slot: SlotName; version: string; headSha256: string } | null;
  /** the slot on trial, if a trial is in progress */
  trial(): { slot: SlotName; version: string } | null;
  /** stop the pipeline and boot again (an activated slot boots on trial) */
  reboot(): void;
  /** firmware, pipeline and monitor facts for HELLO and STATUS */
  info(): Record<string, unknown>;
}

export interface AgentOptions {
  storage: Storage;
  publicKey: KeyObject;
  hardwareId: string;
  box: BoxControl;
  /** accept READ_STATE and ERASE_SLOT too (default: production, flashing commands only) */
  development?: boolean;
  chunkSize?: number;
  window?: number;
  /** a transfer with no frame for this long is suspended (its journal stays) */
  inputTimeoutMs?: number;
  point?: (name: string) => void;
  log?: Logger;
}

class Refusal extends Error {
  constructor(readonly status: StatusName, message: string) {
    super(message);
  }
}

/** A u32 acknowledgement (HEAD, DATA) of what `put` stored; a RangeError of a piece that does not fit is BAD_REQUEST. */
function u32Reply(put: () => number): Uint8Array {
  let n: number;
  try {
    n = put();
  } catch (e) {
    if (e instanceof RangeError) throw new Refusal('BAD_REQUEST', e.message);
    throw e;
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

export class Agent {
  private transfer: Transfer | null = null;
  private readonly head = new HeadBuffer();
  private idleTimer: NodeJS.Timeout | null = null;
  /** REBOOT is not idempotent: a host whose answer was lost reads these in STATUS to tell whether the box took it */
  private readonly session = randomUUID();
  private reboots = 0;
  readonly chunkSize: number;
  readonly window: number;
  private readonly point: (name: string) => void;
  private readonly log: Logger;

  constructor(private opts: AgentOptions) {
    this.chunkSize = opts.chunkSize ?? 4096;
    this.window = opts.window ?? 8;
    this.point = opts.point ?? (() => {});
    this.log = opts.log ?? silentLog();
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
      if (!this.opts.development && !PRODUCTION_COMMANDS.has(req.command)) {
        throw new Refusal('NOT_ALLOWED', 'production mode accepts only flashing commands (start the agent with --development for the others)');
      }
      const body = await this.dispatch(req);
      return reply(STATUS.OK, body);
    } catch (e) {
      const status: StatusName = e instanceof Refusal ? e.status : e instanceof ImageError ? e.code : 'IO_ERROR';
      const detail = (e as Error).message;
      if (status === 'IO_ERROR') this.log.error({ command: commandName(req.command), err: e }, 'request failed');
      // HEAD and DATA refusals repeat for every frame of a broken transfer: one line per transfer is enough
      else if (req.command !== COMMANDS.DATA || status !== 'BAD_STATE') this.log.warn({ command: commandName(req.command), code: status, detail }, 'refused');
      return reply(STATUS[status], text(detail));
    }
  }

  private async dispatch(req: Packet): Promise<Uint8Array> {
    switch (req.command) {
      case COMMANDS.HELLO:
      case COMMANDS.STATUS:
        return text(JSON.stringify(this.info(req.command === COMMANDS.STATUS)));
      case COMMANDS.HEAD:
        return this.headPiece(req.payload);
      case COMMANDS.BEGIN:
        return text(JSON.stringify(this.begin(req.payload)));
      case COMMANDS.DATA:
        return this.data(req.payload);
      case COMMANDS.END:
        return text(JSON.stringify(this.end(req.payload)));
      case COMMANDS.ACTIVATE:
        return text(JSON.stringify(this.activate()));
      case COMMANDS.REBOOT:
        this.suspend();
        this.reboots++;
        // Answer first; the box stops the pipeline and boots after the reply has gone out.
        setImmediate(() => this.opts.box.reboot());
        return new Uint8Array(0);
      case COMMANDS.READ_STATE:
        // the raw file (diagnostics of a damaged one); a box never written to has the empty state
        return existsSync(this.opts.storage.statePath) ? readFileSync(this.opts.storage.statePath) : text(JSON.stringify(this.opts.storage.readState()));
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
      mode: this.opts.development ? 'development' : 'production',
      state: this.transfer ? 'receiving' : 'idle',
      running: this.opts.box.running()?.slot ?? null,
      active: s.active,
      pending: s.pending,
      minSecurityCounter: s.minSecurityCounter,
      slots: { a: slot('a'), b: slot('b') },
      rejected: s.rejected,
      window: this.window,
      chunkSize: this.chunkSize,
      session: this.session,
      reboots: this.reboots,
      ...this.opts.box.info(),
      ...(withTransfer && this.transfer ? { transfer: { acked: this.transfer.acked, chunks: this.transfer.chunks } } : {}),
    };
  }

  /** The slot a new image goes to: never the one the pipeline runs from, nor the confirmed one. */
  private targetSlot(state: BoxState): SlotName {
    const running = this.opts.box.running()?.slot ?? state.active;
    return running === 'a' ? 'b' : running === 'b' ? 'a' : state.active === 'a' ? 'b' : 'a';
  }

  private headPiece(payload: Uint8Array): Uint8Array {
    if (payload.length < 8) throw new Refusal('BAD_REQUEST', 'HEAD needs the head length and the piece offset (two u32)');
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    return u32Reply(() => this.head.put(dv.getUint32(0, true), dv.getUint32(4, true), payload.subarray(8)));
  }

  private begin(payload: Uint8Array): { nextChunk: number; chunks: number; chunkSize: number; slot: SlotName; alreadyRunning?: boolean; version?: string } {
    if (payload.length !== 33) throw new Refusal('BAD_REQUEST', 'BEGIN needs the SHA-256 of the head sent with HEAD and one flags byte');
    const headSha256 = Buffer.from(payload.subarray(0, 32)).toString('hex');
    const headBytes = this.head.take(headSha256);
    if (!headBytes) throw new Refusal('BAD_STATE', 'BEGIN without the complete image head (send it with HEAD first)');
    const allowDowngrade = (payload[32] & BEGIN_FLAGS.ALLOW_DOWNGRADE) !== 0;
    const parsed = parseHead(headBytes);
    if (headBytes.length !== parsed.signedLength) throw new Refusal('BAD_REQUEST', `the head sent is ${headBytes.length} bytes, the image's header describes ${parsed.signedLength}`);
    verifyHeadSignature(headBytes, parsed, this.opts.publicKey);
    const m = parsed.manifest;
    const state = this.opts.storage.readState();
    checkPolicy(m, { hardwareId: this.opts.hardwareId, minSecurityCounter: state.minSecurityCounter });
    this.checkVersion(m, state, allowDowngrade);
    const running = this.opts.box.running();
    const size = parsed.signedLength + parsed.payloadLength;
    if (running && running.headSha256 === headSha256) {
      this.log.info({ slot: running.slot, version: m.version }, 'flash of the image already running: nothing to do');
      return { nextChunk: 0, chunks: Math.ceil(size / this.chunkSize), chunkSize: this.chunkSize, slot: running.slot, alreadyRunning: true, version: m.version };
    }
    const trial = this.opts.box.trial();
    if (trial) throw new Refusal('BAD_STATE', `image ${trial.version} in slot ${trial.slot} is on trial; flash again once it has confirmed or reverted (aunet device info)`);
    const slot = this.targetSlot(state);
    // The target slot is about to be overwritten: forget what it held first.
    if (state.slots[slot] || state.pending?.slot === slot) {
      state.slots[slot] = null;
      if (state.pending?.slot === slot) state.pending = null;
      this.opts.storage.writeState(state);
    }
    this.transfer?.close();
    this.transfer = Transfer.open(this.opts.storage, { slot, headSha256, size, chunkSize: this.chunkSize }, this.point);
    this.log.info({ slot, version: m.version, securityCounter: m.securityCounter, bytes: size, chunks: this.transfer.chunks, resumedFrom: this.transfer.acked }, 'transfer begin');
    return { nextChunk: this.transfer.acked, chunks: this.transfer.chunks, chunkSize: this.chunkSize, slot };
  }

  /** A lower version at the confirmed image's security counter needs a downgrade permission, signed or given by the flasher. */
  private checkVersion(m: Manifest, state: BoxState, flagged: boolean): void {
    const current = state.active ? state.slots[state.active] : null;
    if (!current || m.securityCounter !== current.securityCounter || compareVersions(m.version, current.version) >= 0) return;
    if (m.allowDowngrade || flagged) {
      this.log.warn({ version: m.version, over: current.version, by: m.allowDowngrade ? 'image' : 'flasher' }, 'downgrade permitted');
      return;
    }
    throw new ImageError('DOWNGRADE', `image ${m.version} is older than the confirmed ${current.version} at the same security counter ${m.securityCounter}; build it or flash it with --allow-downgrade to go back on purpose`);
  }

  private data(payload: Uint8Array): Uint8Array {
    if (!this.transfer) throw new Refusal('BAD_STATE', 'DATA without BEGIN');
    if (payload.length < 4) throw new Refusal('BAD_REQUEST', 'DATA needs a 4-byte chunk index');
    const index = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
    const transfer = this.transfer;
    return u32Reply(() => transfer.write(index, payload.subarray(4)));
  }

  private end(payload: Uint8Array): { slot: SlotName; version: string } {
    const t = this.transfer;
    if (!t) return this.repeatedEnd(payload);
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
    this.head.clear();
    renameSync(storage.partPath(slot), storage.imagePath(slot));
    fsyncDir(storage.slotDir(slot));
    this.point('mark-pending');
    const m = img.manifest;
    state.slots[slot] = { version: m.version, securityCounter: m.securityCounter, sha256: img.sha256, hardwareId: m.hardwareId, confirmed: false };
    state.pending = { slot, activated: false, attempts: 0 };
    storage.writeState(state);
    storage.removeTransfer(slot);
    this.log.info({ slot, version: m.version, sha256: img.sha256 }, 'transfer end: image verified, pending');
    return { slot, version: m.version };
  }

  /**
   * END again for the image just verified: its answer was lost on the line, or the host's END
   * timeout ran out while this box verified (the host retries END as idempotent). The same
   * answer, or BAD_STATE when no transfer and no pending image of that SHA-256 exist.
   */
  private repeatedEnd(payload: Uint8Array): { slot: SlotName; version: string } {
    const { pending, slots } = this.opts.storage.readState();
    const slot = pending && !pending.activated ? slots[pending.slot] : null;
    if (!pending || !slot || payload.length !== 32 || slot.sha256 !== Buffer.from(payload).toString('hex')) throw new Refusal('BAD_STATE', 'END without BEGIN: no transfer is open and no verified image of that SHA-256 is pending; send the image again from BEGIN');
    this.log.info({ slot: pending.slot, version: slot.version }, 'END repeated: the image is already verified and pending');
    return { slot: pending.slot, version: slot.version };
  }

  private activate(): { pending: SlotName } {
    const state = this.opts.storage.readState();
    if (!state.pending) throw new Refusal('BAD_STATE', 'no verified image is pending');
    state.pending.activated = true;
    this.point('activate');
    this.opts.storage.writeState(state);
    this.log.info({ slot: state.pending.slot, version: state.slots[state.pending.slot]?.version }, 'activated: boots on trial at the next boot');
    return { pending: state.pending.slot };
  }

  private erase(payload: Uint8Array): Uint8Array {
    const slot = String.fromCharCode(payload[0] ?? 0) as SlotName;
    if (!SLOT_NAMES.includes(slot)) throw new Refusal('BAD_REQUEST', 'ERASE_SLOT needs "a" or "b"');
    const state = this.opts.storage.readState();
    if (state.active === slot || this.opts.box.running()?.slot === slot) throw new Refusal('BAD_STATE', `slot ${slot} is the running or confirmed slot`);
    state.slots[slot] = null;
    if (state.pending?.slot === slot) state.pending = null;
    this.opts.storage.writeState(state);
    this.opts.storage.eraseSlot(slot);
    this.log.warn({ slot }, 'slot erased');
    return new Uint8Array(0);
  }

  /** Input timeout: a silent transfer is suspended so a broken host cannot wedge the box. */
  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const ms = this.opts.inputTimeoutMs ?? 30_000;
    this.idleTimer = setTimeout(() => {
      if (this.transfer) this.log.warn({ ms, acked: this.transfer.acked, chunks: this.transfer.chunks }, 'no input: transfer suspended (a BEGIN of the same image resumes it)');
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
    this.head.clear();
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
