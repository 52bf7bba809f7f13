// Every decoder that takes bytes from outside the box, as a fuzz target: seed
// inputs (valid, small), an optional fix-up that repairs checksums so mutations
// reach past them, and `run`, which feeds one input and throws only on a crash:
// anything but the decoder's own refusal (an AunetError, or null where the
// decoder drops bad input by design). Used by tests/fuzz/fuzz.test.ts (a short
// seeded pass in CI) and tests/perf/fuzz.bench.ts (long runs, figures).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { crc32 } from 'node:zlib';
import { AunetError } from '../../common/errors.js';
import { decodeFrameMessage, encodeFrameMessage } from '../../contracts/frame-message.js';
import { parseCommand } from '../../contracts/command.js';
import { judgeRequest } from '../../host/publish/http-guard.js';
import { judgeUpgrade } from '../../host/publish/websocket-origin.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../host/publish/broker.js';
import { SlipDecoder, slipEncode } from '../../firmware/slip.js';
import { decodePacket, encodePacket, REQUEST } from '../../firmware/packet.js';
import { COMMANDS } from '../../firmware/protocol.js';
import { Agent } from '../../host/box/agent.js';
import { Storage } from '../../firmware/slots.js';
import { assembleImage, parseImage, verifyImage } from '../../firmware/image.js';
import { decodeModel, encodeModel } from '../../models/format.js';
import { randomQModel } from '../../models/random-qmodel.js';
import { Recorder } from '../../camera/recorder.js';
import { RecordingReader, type RecordingStatus } from '../../camera/sources/recording.js';
import { DicomCine } from '../../camera/sources/dicom.js';
import { dicomFile, greyCine } from '../camera/dicom-writer.js';
import { connectPacket } from '../host/publish/raw-mqtt.js';
import { memoryOperators } from '../support/operators.js';

export interface FuzzTarget {
  name: string;
  /** what the decoder reads, for the report */
  what: string;
  seeds: Uint8Array[];
  /** inputs that crashed the decoder once (kept, run before every pass) */
  regressions?: Uint8Array[];
  /** repair checksums/digests after a mutation (applied to half the inputs) */
  fixup?(b: Uint8Array): Uint8Array;
  /** feed one input; throw only on a crash */
  run(input: Uint8Array): void | Promise<void>;
  close?(): Promise<void>;
}

/** The decoder's own refusal: not a crash. */
function refusal(e: unknown): boolean {
  return e instanceof AunetError;
}

function expectRefusal(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!refusal(e)) throw e;
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const u8 = (b: Uint8Array | Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** HTTP request lines and headers: method, target, Host, Origin split out of the bytes. */
function httpTarget(): FuzzTarget {
  const seeds = ['GET\n/\n127.0.0.1:8080\n', 'GET\n/config.json?x=1\nlocalhost:8080\nhttp://localhost:8080', 'HEAD\n/monitor.js\n[::1]:80\n', 'GET\n/%ff\nbox.lan\nhttp://evil', 'GET\n/mqtt\n127.0.0.1:1\nnull'].map((s) => u8(Buffer.from(s, 'latin1')));
  return {
    name: 'http',
    what: 'HTTP method, request target, Host and Origin (judgeRequest, judgeUpgrade)',
    seeds,
    run(input) {
      const [method, url, host, origin] = Buffer.from(input).toString('latin1').split('\n');
      const headers = { host, ...(origin !== undefined ? { origin } : {}) };
      const v = judgeRequest(method, url, headers, ['box.lan']);
      if (v.ok && (typeof v.path !== 'string' || v.path.includes('\\') || /(^|\/)\.\.(\/|$)/.test(v.path))) throw new Error(`accepted a path it must refuse: ${JSON.stringify(v.path)}`);
      judgeUpgrade(headers, { allowedOrigins: ['http://listed.example'], allowedHosts: ['box.lan'] });
    },
  };
}

/** A sequence of MQTT packets on one connection through the embedded broker's gate, policy and aedes. */
async function mqttTarget(): Promise<FuzzTarget> {
  const broker: EmbeddedBroker = await startEmbeddedBroker({ port: 0, httpPort: 0, operators: memoryOperators({ op: 'op-password' }), maxServicePacketBytes: 4096, signInLimits: { freeFailures: 1e9 } });
  const str = (s: string) => Buffer.concat([Buffer.from([s.length >> 8, s.length & 255]), Buffer.from(s)]);
  const packet = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type, body.length]), body]);
  const subscribe = packet(0x82, Buffer.concat([Buffer.from([0, 1]), str('aunet/+/status'), Buffer.from([0]), str('#'), Buffer.from([1])]));
  const publish = packet(0x30, Buffer.concat([str('aunet/d/cmd'), Buffer.from('{"cmd":"pause"}')]));
  const publishQ1 = packet(0x33, Buffer.concat([str('aunet/d/cmd'), Buffer.from([0, 7]), Buffer.from('{"cmd":"resume"}')]));
  const tail = Buffer.concat([subscribe, publish, publishQ1, Buffer.from([0xc0, 0]), packet(0xa2, Buffer.concat([Buffer.from([0, 2]), str('#')])), Buffer.from([0xe0, 0])]);
  const seeds = [
    Buffer.concat([connectPacket('fuzz-anon'), tail]),
    Buffer.concat([connectPacket('fuzz-op', { username: 'op', password: 'op-password' }), tail]),
    Buffer.concat([connectPacket('fuzz-bad', { username: 'op', password: 'nope' }), tail]),
    Buffer.concat([connectPacket('fuzz-svc', broker.serviceUser), tail]),
  ].map(u8);
  let crash: unknown = null;
  const onUncaught = (e: unknown) => (crash = e);
  process.on('uncaughtException', onUncaught);
  return {
    name: 'mqtt',
    what: 'MQTT packets through the embedded broker (packet-size gate, sign-in, policy, aedes)',
    seeds,
    async run(input) {
      const conn = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
      conn.on('error', () => {});
      broker.handle(conn, { address: '127.0.0.1' });
      conn.push(Buffer.from(input));
      conn.push(null);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      conn.destroy();
      if (crash) {
        const e = crash;
        crash = null;
        throw e;
      }
    },
    async close() {
      process.off('uncaughtException', onUncaught);
      await broker.close();
    },
  };
}

function cmdTarget(): FuzzTarget {
  const seeds = ['{"cmd":"pause"}', '{"cmd":"threshold","value":0.4,"id":"m1"}', '{"cmd":"gates","gates":[1,4]}', '{"cmd":"resume","id":"x"}'].map((s) => u8(Buffer.from(s)));
  return {
    name: 'cmd',
    what: 'the cmd JSON (parseCommand)',
    seeds,
    run(input) {
      const r = parseCommand(input);
      if (typeof r.ok !== 'boolean') throw new Error('parseCommand returned no verdict');
    },
  };
}

function frameTarget(): FuzzTarget {
  const W = 32;
  const H = 32;
  const n = W * H;
  const pix = (k: number) => Uint8Array.from({ length: n }, (_, i) => (i * k) & 255);
  const msg = (gates: boolean[], contours: Uint16Array[]) =>
    encodeFrameMessage({
      frameId: 7, captureTime: 1, publishTime: 2, cycles: 3, lesionArea: 0.1, meanConfidence: 0.5, width: W, height: H, threshold: 128, state: 'live',
      content: { x: 0, y: 0, width: W, height: H }, frame: pix(3), mask: pix(1).map((v) => v & 1), prob: pix(5),
      attention: [1, 2, 3, 4].map((k, i) => (gates[i] ? new Uint8Array((W >> (5 - k)) * (H >> (5 - k))).fill(k) : null)) as never,
      contours,
    });
  return {
    name: 'frame',
    what: "frame messages in the monitor's decoder (decodeFrameMessage)",
    seeds: [msg([true, true, true, true], [Uint16Array.from([2, 2, 20, 2, 20, 20, 2, 20])]), msg([false, true, false, false], [])],
    run(input) {
      expectRefusal(() => {
        const m = decodeFrameMessage(input);
        if (m.frame.length !== m.width * m.height || m.prob.length !== m.width * m.height) throw new Error('decoded maps of the wrong size');
      });
    },
  };
}

function serialTarget(): FuzzTarget {
  const { publicKey } = generateKeyPairSync('ed25519');
  const dir = mkdtempSync(join(tmpdir(), 'aunet-fuzz-agent-'));
  // the serial side alone, in development mode (every command), on a box that runs nothing (the box's own tests are tests/host/box/*)
  const box = { running: () => null, trial: () => null, reboot: () => {}, info: () => ({}) };
  const agent = new Agent({ storage: new Storage(dir), publicKey, hardwareId: 'aunet-edge-1', box, development: true });
  const decoder = new SlipDecoder();
  const seeds = [COMMANDS.HELLO, COMMANDS.STATUS, COMMANDS.HEAD, COMMANDS.BEGIN, COMMANDS.DATA, COMMANDS.END, COMMANDS.ERASE_SLOT].map((command, seq) =>
    encodePacket({ direction: REQUEST, command, seq, payload: Uint8Array.from({ length: 4 + seq * 7 }, (_, i) => (i * 37) & 255) }),
  );
  return {
    name: 'serial',
    what: 'serial frames: SLIP, packet CRC, the agent answering each request',
    seeds,
    fixup(b) {
      if (b.length < 10) return b;
      const out = Buffer.from(b);
      out.writeUInt16LE(out.length - 10, 4);
      out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
      return u8(out);
    },
    async run(input) {
      for (const f of decoder.push(slipEncode(input))) decodePacket(f);
      decoder.push(input);
      // a packet whose CRC held, else the raw bytes taken as one (the agent must survive any request)
      const p = decodePacket(input) ?? { direction: REQUEST, command: input[1] ?? 0, seq: 0, payload: input.subarray(6) };
      if (p.command !== COMMANDS.REBOOT && p.command !== COMMANDS.ACTIVATE) {
        const res = await agent.handle({ ...p, direction: REQUEST } as never);
        if (!res || res.payload.length < 1) throw new Error('a request got no status');
      }
    },
    async close() {
      agent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function imageTarget(): FuzzTarget {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const image = assembleImage(
    {
      version: '2.0.0', securityCounter: 1, hardwareId: 'aunet-edge-1', build: { date: 'd', tool: 't' },
      runtimes: [{ build: 'simd', bytes: Buffer.alloc(64, 1) }], model: Buffer.alloc(200, 2), config: Buffer.from('{}'), monitor: Buffer.alloc(10),
      selfTest: { frame: 'golden-v1', outputSha256: 'b'.repeat(64) },
    },
    privateKey,
  );
  return {
    name: 'aufw',
    what: '.aufw firmware images (parseImage, verifyImage)',
    seeds: [image],
    run(input) {
      expectRefusal(() => parseImage(input));
      expectRefusal(() => {
        verifyImage(input, publicKey);
        if (!Buffer.from(input).equals(image)) throw new Error('a changed image verified');
      });
    },
  };
}

function modelTarget(): FuzzTarget {
  const bytes = encodeModel(randomQModel({ filters: 1, width: 16, height: 16, channels: 1 }, { seed: 3 }));
  return {
    name: 'aunet',
    what: '.aunet models (decodeModel: header, sections, digest, model checks)',
    seeds: [bytes],
    fixup(b) {
      if (b.length < 64) return b;
      const out = Uint8Array.from(b);
      out.set(sha256(out.subarray(0, out.length - 32)), out.length - 32);
      return out;
    },
    run(input) {
      expectRefusal(() => decodeModel(input, 'fuzz.aunet'));
    },
  };
}

function recordingTarget(): FuzzTarget {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-fuzz-rec-'));
  const seedFile = join(dir, 'seed.aurec');
  const rec = new Recorder(seedFile, { spec: 'phantom:', kind: 'phantom', live: false, fps: 10 } as never, 'fuzz', { level: 0 });
  for (let id = 0; id < 2; id++) rec.append({ id, captureTime: { monoNs: BigInt(id) * 100_000_000n, wallMs: 1e12 + id * 100 }, width: 8, height: 8, pixels: new Uint8Array(64).fill(id * 9), meta: { n: id } } as never);
  rec.close();
  const seed = u8(readFileSync(seedFile));
  const file = join(dir, 'input.aurec');
  return {
    name: 'aurec',
    what: '.aurec recordings (RecordingReader: header, records, CRCs, frames)',
    seeds: [seed],
    regressions: [shortDoneRecord(seed)],
    fixup(b) {
      // repair the header CRC and every record's CRC, so mutations reach the fields behind them
      const out = Buffer.from(b);
      if (out.length < 16) return b;
      const len = out.readUInt32LE(8);
      if (16 + len > out.length) return b;
      out.writeUInt32LE(crc32(out.subarray(12, 12 + len)), 12 + len);
      let pos = 16 + len;
      while (pos + 12 <= out.length) {
        const n = out.readUInt32LE(pos + 4);
        if (pos + 12 + n > out.length) break;
        out.writeUInt32LE(crc32(out.subarray(pos + 8, pos + 8 + n), crc32(out.subarray(pos, pos + 8))), pos + 8 + n);
        pos += 12 + n;
      }
      return u8(out);
    },
    run(input) {
      writeFileSync(file, input);
      // read as replay does, and as --salvage does
      for (const salvage of [false, true]) {
        expectRefusal(() => {
          const r = new RecordingReader(file, salvage);
          try {
            const status: RecordingStatus = { frames: 0, recovered: false, ignoredBytes: 0, damaged: [], lostFrames: 0 };
            for (const f of r.frames(status)) if (f.pixels.length !== f.width * f.height) throw new Error('frame of the wrong size');
          } finally {
            r.close();
          }
        });
      }
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A clean recording whose end record (24 bytes at the end) carries a 1-byte body under a valid CRC: read as 12 bytes, it threw RangeError. */
function shortDoneRecord(rec: Uint8Array): Uint8Array {
  const b = Buffer.from(rec);
  const head = Buffer.from(b.subarray(b.length - 24, b.length - 16));
  head.writeUInt32LE(1, 4);
  const body = b.subarray(b.length - 16, b.length - 15);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body, crc32(head)));
  return u8(Buffer.concat([b.subarray(0, b.length - 24), head, body, crc]));
}

function dicomTarget(): FuzzTarget {
  const w = 6;
  const h = 4;
  const px = Buffer.alloc(w * h * 2, 7);
  const grey = greyCine({ width: w, height: h, frames: 2, pixels: px, frameTimes: '0\\50' });
  const rgb = dicomFile([
    [0x0028, 0x0002, 'US', 3], [0x0028, 0x0004, 'CS', 'RGB'], [0x0028, 0x0006, 'US', 1], [0x0028, 0x0010, 'US', 2], [0x0028, 0x0011, 'US', 2],
    [0x0028, 0x0100, 'US', 8], [0x0028, 0x0101, 'US', 8], [0x7fe0, 0x0010, 'OB', Buffer.alloc(12, 40)],
  ]);
  return {
    name: 'dicom',
    what: 'DICOM files (dicom-parser, then our layout checks and frame extraction)',
    seeds: [u8(grey), u8(rgb)],
    run(input) {
      expectRefusal(() => {
        const c = new DicomCine('fuzz.dcm', input);
        for (let i = 0; i < Math.min(c.layout.frames, 4); i++) c.frame(i);
      });
    },
  };
}

/** All targets, in report order. */
export async function fuzzTargets(only?: string[]): Promise<FuzzTarget[]> {
  const make: Record<string, () => FuzzTarget | Promise<FuzzTarget>> = {
    http: httpTarget,
    mqtt: mqttTarget,
    cmd: cmdTarget,
    frame: frameTarget,
    serial: serialTarget,
    aufw: imageTarget,
    aunet: modelTarget,
    aurec: recordingTarget,
    dicom: dicomTarget,
  };
  const names = only?.length ? only : Object.keys(make);
  const out: FuzzTarget[] = [];
  for (const n of names) {
    if (!make[n]) throw new Error(`no fuzz target ${n}; targets: ${Object.keys(make).join(', ')}`);
    out.push(await make[n]());
  }
  return out;
}
