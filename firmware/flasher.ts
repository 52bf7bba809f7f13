// The host side of the serial protocol: commands with timeouts and retries,
// and the windowed, resumable image transfer (docs/serial-protocol.md).
import { createHash } from 'node:crypto';
import { parseHead } from './image.js';
import { BEGIN_FLAGS, COMMANDS, DeviceError, PROTOCOL_VERSION, STATUS, checkStatus, commandName } from './protocol.js';
import { REQUEST, type Packet } from './packet.js';
import type { PacketLink } from './link.js';

export const DEFAULTS = {
  commandTimeoutMs: 2000,
  commandAttempts: 5,
  dataTimeoutMs: 1000,
  writeBlockAttempts: 8,
  endTimeoutMs: 3000,
  endTimeoutPerMiBMs: 2000,
};
export type FlashTimeouts = typeof DEFAULTS;
/** duplicate acknowledgements that mean a chunk was lost */
const FAST_RETRANSMIT_DUPS = 3;

export interface FlashProgress {
  acked: number;
  chunks: number;
  resumedFrom: number;
  retransmissions: number;
}

export interface FlashResult {
  slot: string;
  version: string;
  /** the box already runs this very image: nothing was sent */
  alreadyRunning: boolean;
  resumedFrom: number;
  chunks: number;
  dataFramesSent: number;
  retransmissions: number;
}

export class DeviceClient {
  private seq = 0;
  private readonly t: FlashTimeouts;

  constructor(private link: PacketLink, timeouts: Partial<FlashTimeouts> = {}) {
    this.t = { ...DEFAULTS, ...timeouts };
  }

  /** Send a request and wait for its response (matched by sequence number); retry on silence. */
  async command(command: number, payload: Uint8Array = new Uint8Array(0), opts: { timeoutMs?: number; attempts?: number } = {}): Promise<Uint8Array> {
    const attempts = opts.attempts ?? this.t.commandAttempts;
    const timeoutMs = opts.timeoutMs ?? this.t.commandTimeoutMs;
    for (let i = 0; i < attempts; i++) {
      const seq = this.nextSeq();
      const res = await this.exchange({ direction: REQUEST, command, seq, payload }, timeoutMs);
      if (res) return checkStatus(command, res.payload);
    }
    throw new DeviceError('UNKNOWN', commandName(command), `no response after ${attempts} attempts of ${timeoutMs} ms (is the agent running on the other end of the port?)`);
  }

  async info(): Promise<Record<string, unknown>> {
    return JSON.parse(new TextDecoder().decode(await this.command(COMMANDS.STATUS))) as Record<string, unknown>;
  }

  /** Transfer, verify and optionally activate an image. Resumes from the box's journal. */
  async flash(image: Uint8Array, opts: { activate?: boolean; reboot?: boolean; allowDowngrade?: boolean; onProgress?: (p: FlashProgress) => void } = {}): Promise<FlashResult> {
    const head = parseHead(image);
    const hello = JSON.parse(new TextDecoder().decode(await this.command(COMMANDS.HELLO))) as { protocol: number; window: number; chunkSize: number };
    if (hello.protocol !== PROTOCOL_VERSION) {
      throw new DeviceError('UNKNOWN', 'HELLO', `the box's agent speaks protocol ${hello.protocol}, this aunet ${PROTOCOL_VERSION}: install the same aunet version on both sides`);
    }
    const window = Math.max(1, hello.window);
    const headBytes = image.subarray(0, head.signedLength);
    const beginPayload = new Uint8Array(33);
    beginPayload.set(createHash('sha256').update(headBytes).digest());
    beginPayload[32] = opts.allowDowngrade ? BEGIN_FLAGS.ALLOW_DOWNGRADE : 0;
    const begin = async () => {
      await this.sendHead(headBytes, hello.chunkSize);
      return JSON.parse(new TextDecoder().decode(await this.command(COMMANDS.BEGIN, beginPayload))) as { nextChunk: number; chunks: number; chunkSize: number; slot: string; alreadyRunning?: boolean; version?: string };
    };
    const plan = await begin();
    if (plan.alreadyRunning) {
      return { slot: plan.slot, version: plan.version ?? head.manifest.version, alreadyRunning: true, resumedFrom: 0, chunks: plan.chunks, dataFramesSent: 0, retransmissions: 0 };
    }
    const { chunks, chunkSize } = plan;
    const resumedFrom = plan.nextChunk;
    let base = plan.nextChunk;
    let next = base;
    let sent = 0;
    let retransmissions = 0;
    const tries = new Map<number, number>();
    /** chunks whose stall was checked with STATUS (once each) */
    const probed = new Set<number>();
    const progress = () => opts.onProgress?.({ acked: base, chunks, resumedFrom, retransmissions });
    progress();

    // A resumed transfer may already hold every chunk: then only END remains.
    if (base < chunks) await new Promise<void>((resolve, reject) => {
      let stall: NodeJS.Timeout | undefined;
      let done = false;
      let rebeginning = false;
      let dupAcks = 0;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(stall);
        off();
        if (err) reject(err);
        else resolve();
      };
      const armStall = () => {
        clearTimeout(stall);
        stall = setTimeout(onStall, this.t.dataTimeoutMs);
      };
      const pump = () => {
        while (next < chunks && next < base + window) {
          const payload = new Uint8Array(4 + Math.min(chunkSize, image.length - next * chunkSize));
          new DataView(payload.buffer).setUint32(0, next, true);
          payload.set(image.subarray(next * chunkSize, (next + 1) * chunkSize), 4);
          this.link.send({ direction: REQUEST, command: COMMANDS.DATA, seq: this.nextSeq(), payload });
          sent++;
          next++;
        }
      };
      const onStall = () => {
        const n = (tries.get(base) ?? 0) + 1;
        tries.set(base, n);
        if (n >= this.t.writeBlockAttempts) {
          const gaveUp = (why: string) => finish(new DeviceError('UNKNOWN', 'DATA', `chunk ${base} unacknowledged after ${n} attempts; ${why}`));
          if (probed.has(base)) return gaveUp('the box answered STATUS after the first round but still takes no data: flash again (it resumes from its journal), and if that stalls too, restart its agent');
          // Before giving up on a chunk, once: a box that still answers STATUS is slow (its storage
          // syncing, say: tests/host/box/flash.test.ts holds the agent 10 s there), not gone, and gets another round.
          probed.add(base);
          clearTimeout(stall);
          this.command(COMMANDS.STATUS).then(() => {
            if (done) return;
            tries.set(base, 0);
            next = base;
            armStall();
            pump();
          }, () => gaveUp(`the box does not answer STATUS either (${this.t.commandAttempts} attempts): check its power and cable, and that its agent runs`));
          return;
        }
        retransmissions += next - base;
        next = base; // go-back-N
        armStall();
        pump();
      };
      const off = this.link.onPacket((p: Packet) => {
        if (p.command !== COMMANDS.DATA || done) return;
        if (p.payload[0] === STATUS.BAD_STATE) {
          // The box suspended the transfer (input timeout or reboot): BEGIN again, resume from its journal.
          if (rebeginning) return;
          rebeginning = true;
          clearTimeout(stall);
          begin().then((b) => {
            rebeginning = false;
            base = next = b.nextChunk;
            armStall();
            pump();
          }, finish);
          return;
        }
        if (p.payload[0] !== STATUS.OK) {
          try {
            checkStatus(COMMANDS.DATA, p.payload);
          } catch (e) {
            return finish(e as Error);
          }
        }
        if (p.payload.length < 5) return;
        const ack = new DataView(p.payload.buffer, p.payload.byteOffset + 1, 4).getUint32(0, true);
        if (ack > base) {
          base = ack;
          dupAcks = 0;
          if (next < base) next = base;
          progress();
          armStall();
        } else if (ack === base && next > base && ++dupAcks === FAST_RETRANSMIT_DUPS) {
          // Later chunks arrive but `base` does not: it was lost. Resend now instead of waiting for the stall timer (TCP's fast retransmit).
          retransmissions += next - base;
          next = base;
        }
        if (base >= chunks) return finish();
        pump();
      });
      armStall();
      pump();
    });

    const sha = createHash('sha256').update(image).digest();
    const endTimeout = this.t.endTimeoutMs + (this.t.endTimeoutPerMiBMs * image.length) / (1 << 20);
    const end = JSON.parse(new TextDecoder().decode(await this.command(COMMANDS.END, sha, { timeoutMs: endTimeout }))) as { slot: string; version: string };
    if (opts.activate) {
      await this.command(COMMANDS.ACTIVATE);
      if (opts.reboot) await this.reboot();
    }
    return { slot: end.slot, version: end.version, alreadyRunning: false, resumedFrom, chunks, dataFramesSent: sent, retransmissions };
  }

  /**
   * REBOOT is not idempotent, so it is never simply resent: when its answer is lost, STATUS says
   * whether the box took it (its agent counts REBOOTs and names its session, which a restart of
   * the agent itself changes) and only a REBOOT the box never saw is sent again.
   */
  async reboot(): Promise<void> {
    const before = await this.info();
    const taken = (s: Record<string, unknown>) => s.session !== before.session || Number(s.reboots) > Number(before.reboots);
    for (let i = 0; i < this.t.commandAttempts; i++) {
      const res = await this.exchange({ direction: REQUEST, command: COMMANDS.REBOOT, seq: this.nextSeq(), payload: new Uint8Array(0) }, this.t.commandTimeoutMs);
      if (res) {
        checkStatus(COMMANDS.REBOOT, res.payload);
        return;
      }
      if (taken(await this.info())) return;
    }
    throw new DeviceError('UNKNOWN', 'REBOOT', `no sign of a reboot after ${this.t.commandAttempts} attempts (is the agent running on the other end of the port?)`);
  }

  /** The signed head in HEAD pieces of at most `pieceSize` bytes, each acknowledged before the next (a resend is harmless). */
  private async sendHead(head: Uint8Array, pieceSize: number): Promise<void> {
    for (let offset = 0; offset < head.length; offset += pieceSize) {
      const piece = head.subarray(offset, offset + pieceSize);
      const payload = new Uint8Array(8 + piece.length);
      const dv = new DataView(payload.buffer);
      dv.setUint32(0, head.length, true);
      dv.setUint32(4, offset, true);
      payload.set(piece, 8);
      const ack = await this.command(COMMANDS.HEAD, payload);
      const received = ack.length >= 4 ? new DataView(ack.buffer, ack.byteOffset, 4).getUint32(0, true) : -1;
      if (received !== offset + piece.length) throw new DeviceError('UNKNOWN', 'HEAD', `the box acknowledged ${received} bytes of the image head, expected ${offset + piece.length}`);
    }
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0xffff;
    return this.seq;
  }

  private exchange(req: Packet, timeoutMs: number): Promise<Packet | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(null);
      }, timeoutMs);
      const off = this.link.onPacket((p) => {
        if (p.seq !== req.seq || p.command !== req.command) return;
        clearTimeout(timer);
        off();
        resolve(p);
      });
      this.link.send(req);
    });
  }
}
