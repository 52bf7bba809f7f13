// The agent's protocol and the box's boot policy, in one process over an
// in-memory byte pipe, with the real box services (embedded broker) and a
// launcher that stands in for the pipeline child (tests/host/box/box-update.test.ts
// runs the real one): trials that confirm, fail their self-test or crash-loop,
// the security-counter minimum, the no-image state, same-counter downgrades,
// re-flashing the running image, manifests over one serial frame, production
// mode and the input timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { Agent } from '../../../host/box/agent.ts';
import { Box, DEFAULT_POLICY, type BoxPolicy } from '../../../host/box/box.ts';
import { BoxServices } from '../../../host/box/box-services.ts';
import type { PipelineEvents, PipelineExit, PipelineHandle, PipelineLauncher } from '../../../host/box/pipeline-process.ts';
import { BoxSettingsSchema } from '../../../contracts/box-settings.ts';
import { DeviceClient } from '../../../firmware/flasher.ts';
import { assembleImage } from '../../../firmware/image.ts';
import { packDirectory } from '../../../firmware/bundle.ts';
import { PacketLink, type ByteStream } from '../../../firmware/link.ts';
import type { Packet } from '../../../firmware/packet.ts';
import { COMMANDS, DeviceError } from '../../../firmware/protocol.ts';
import { Storage } from '../../../firmware/slots.ts';
import { Recorder } from './helpers.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const GOOD = 'a'.repeat(64);

let monitorTar: Uint8Array;
async function monitor(): Promise<Uint8Array> {
  if (!monitorTar) {
    const dir = mkdtempSync(join(tmpdir(), 'aunet-mon-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>box</title>');
    monitorTar = await packDirectory(dir);
    rmSync(dir, { recursive: true });
  }
  return monitorTar;
}

type Behaviour = 'ok' | 'crash';
async function image(version: string, securityCounter: number, opts: { hardwareId?: string; good?: boolean; size?: number; behaviour?: Behaviour; allowDowngrade?: boolean; sbom?: Record<string, unknown> } = {}): Promise<Buffer> {
  return Buffer.from(assembleImage(
    {
      version, securityCounter, hardwareId: opts.hardwareId ?? 'aunet-edge-1', build: { date: 'd', tool: 't' },
      runtimes: [{ build: 'simd', bytes: Buffer.alloc(100, 1) }],
      model: Buffer.alloc(opts.size ?? 50_000, securityCounter),
      // the stand-in pipeline reads how to behave from the configuration
      config: Buffer.from(JSON.stringify({ publish: { statsIntervalMs: opts.behaviour === 'crash' ? 999 : 1000 } })),
      monitor: await monitor(),
      // ... and passes its self-test only when this hash says "good"
      selfTest: { frame: 'golden-v1', outputSha256: opts.good === false ? 'b'.repeat(64) : GOOD },
      allowDowngrade: opts.allowDowngrade,
      sbom: opts.sbom,
    },
    privateKey,
  ));
}

/** The pipeline child's part, in process: self-test by the manifest's hash, then ready, or a crash at start. */
function fakeLauncher(): { launcher: PipelineLauncher; starts: string[] } {
  const starts: string[] = [];
  const launch: PipelineLauncher['launch'] = (start) => {
    starts.push(start.firmware.version);
    const h = new EventEmitter<PipelineEvents>() as PipelineHandle & EventEmitter<PipelineEvents>;
    let alive = true;
    const end = (code: number, reason: string, requested: boolean) => {
      if (!alive) return;
      alive = false;
      const e: PipelineExit = { code, signal: null, reason, requested, at: Date.now() };
      h.emit('exit', e);
      return e;
    };
    Object.assign(h, {
      pid: 1000 + starts.length,
      send: () => {},
      stop: async () => end(0, 'stopped', true) ?? { code: 0, signal: null, reason: 'stopped', requested: true, at: Date.now() },
    });
    setTimeout(async () => {
      const { readFileSync } = await import('node:fs');
      const { parseImage } = await import('../../../firmware/image.ts');
      const img = parseImage(readFileSync(start.image));
      const ok = img.manifest.selfTest.outputSha256 === GOOD;
      h.emit('self-test', { ok, detail: ok ? 'matches' : 'differs' });
      if (!ok) return end(3, 'self-test failed: differs', false);
      if (start.config.publish.statsIntervalMs === 999) return end(1, 'BAD_CHIP_CONFIG: crashes at start', false);
      h.emit('ready', { model: { name: 'm', sha256: 'x' } });
    }, 20);
    return h;
  };
  return { launcher: { launch, prepare: () => {}, close: () => {} }, starts };
}

/** A host link that loses the first REBOOT request, or the first answer to one, as a noisy line does. */
class LossyRebootLink extends PacketLink {
  lost = false;
  constructor(stream: ByteStream, private lose: 'request' | 'answer') {
    super(stream);
  }
  override send(p: Packet): void {
    if (this.lose === 'request' && p.command === COMMANDS.REBOOT && !this.lost) this.lost = true;
    else super.send(p);
  }
  override onPacket(listener: (p: Packet) => void): () => void {
    return super.onPacket((p) => {
      if (this.lose === 'answer' && p.command === COMMANDS.REBOOT && !this.lost) this.lost = true;
      else listener(p);
    });
  }
}

async function setup(over: { policy?: Partial<BoxPolicy>; development?: boolean; inputTimeoutMs?: number; root?: string; link?: (s: ByteStream) => PacketLink } = {}) {
  const root = over.root ?? mkdtempSync(join(tmpdir(), 'aunet-agent-'));
  mkdirSync(root, { recursive: true });
  const settings = BoxSettingsSchema.parse({ device: 'unit-box', broker: { port: 0, httpPort: 0 } });
  const log = pino({ level: 'silent' });
  const services = await BoxServices.start(settings, join(root, 'settings.yaml'), log);
  const storage = new Storage(root);
  const { launcher, starts } = fakeLauncher();
  const policy = { ...DEFAULT_POLICY, healthyForMs: 150, crashLimit: 2, ...over.policy };
  const box = new Box({ storage, publicKey, hardwareId: 'aunet-edge-1', settings, settingsFile: join(root, 'settings.yaml'), services, launcher, policy, software: 'test', log });
  const toBox = new PassThrough();
  const toHost = new PassThrough();
  const hostSide: ByteStream = { write: (c) => toBox.write(c), on: (e, l) => toHost.on(e, l), off: (e, l) => toHost.off(e, l) };
  const boxSide: ByteStream = { write: (c) => toHost.write(c), on: (e, l) => toBox.on(e, l), off: (e, l) => toBox.off(e, l) };
  const agent = new Agent({ storage, publicKey, hardwareId: 'aunet-edge-1', box, chunkSize: 1024, development: over.development, inputTimeoutMs: over.inputTimeoutMs });
  agent.serve(new PacketLink(boxSide));
  await box.start();
  const client = new DeviceClient(over.link?.(hostSide) ?? new PacketLink(hostSide), { commandTimeoutMs: 500, dataTimeoutMs: 200 });
  const sub = await mqtt.connectAsync(services.broker!.url, { reconnectPeriod: 0 });
  const rec = new Recorder(sub);
  await sub.subscribeAsync('aunet/unit-box/status');
  return {
    root, agent, box, client, starts, rec, storage,
    /** the box's state as `aunet device info --json` shows it */
    info: () => client.info() as Promise<Record<string, any>>,
    /** flash with --reboot, then wait until the box settles on `version` (confirmed unless `trial`) */
    async update(img: Uint8Array, expect: { version: string; state?: 'confirmed' | 'trial' }, flags: { allowDowngrade?: boolean } = {}) {
      await client.flash(img, { activate: true, reboot: true, ...flags });
      return this.settle(expect);
    },
    /** wait until the box runs `version` in `state` (and `also` holds) */
    async settle(expect: { version: string | null; state?: 'confirmed' | 'trial' }, also: (i: Record<string, any>) => boolean = () => true) {
      let last: Record<string, any> = {};
      for (let i = 0; i < 100; i++) {
        last = await client.info();
        const fw = last.firmware;
        if ((fw?.version ?? null) === expect.version && (!fw || fw.state === (expect.state ?? 'confirmed')) && last.pipeline.state !== 'starting' && also(last)) return last;
        await sleep(20);
      }
      assert.fail(`box never settled on ${JSON.stringify(expect)}: ${JSON.stringify(last)}`);
    },
    async done() {
      await box.close();
      agent.close();
      await sub.endAsync(true);
      await services.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

test('a trial confirms after its self-test and a healthy spell; the status says which firmware runs', async () => {
  const s = await setup();
  try {
    assert.equal((await s.info()).pipeline.state, 'no-image');
    await s.rec.until(() => s.rec.json('/status').some((m) => m.state === 'no-image'), 2000, 'no-image status');
    const i1 = await s.update(await image('1.0.0', 1), { version: '1.0.0' });
    assert.equal(i1.minSecurityCounter, 1);
    assert.equal(i1.firmware.slot, 'a');
    assert.equal(i1.firmware.runtime, 'simd');
    const statuses = s.rec.json('/status');
    const updating = statuses.find((m) => m.state === 'updating' && (m.firmware as { version?: string })?.version === '1.0.0');
    assert.ok(updating, `no 'updating' status for 1.0.0: ${JSON.stringify(statuses)}`);
    assert.equal((updating!.firmware as { state: string }).state, 'trial');
    await s.update(await image('2.0.0', 2), { version: '2.0.0' });
    assert.deepEqual(s.starts, ['1.0.0', '2.0.0']);
  } finally {
    await s.done();
  }
});

test('a self-test mismatch and a crash loop both revert to the confirmed image at once', async () => {
  const s = await setup();
  try {
    await s.update(await image('1.0.0', 1), { version: '1.0.0' });
    await s.client.flash(await image('2.0.0', 2, { good: false }), { activate: true, reboot: true });
    const r1 = await s.settle({ version: '1.0.0' }, (i) => i.rejected.length === 1);
    assert.equal(r1.running, 'a');
    assert.match(r1.rejected.at(-1).reason, /self-test failed/);
    assert.equal(r1.minSecurityCounter, 1, 'a rejected image must not raise the anti-rollback counter');
    await s.client.flash(await image('2.1.0', 2, { behaviour: 'crash' }), { activate: true, reboot: true });
    const r2 = await s.settle({ version: '1.0.0' }, (i) => i.rejected.length === 2);
    assert.match(r2.rejected.at(-1).reason, /crash loop: 2 crashes/);
    assert.deepEqual(s.starts, ['1.0.0', '2.0.0', '1.0.0', '2.1.0', '2.1.0', '1.0.0']);
  } finally {
    await s.done();
  }
});

test('boots of a trial that never confirm (power cuts) are abandoned after maxTrialBoots', async () => {
  const s = await setup({ policy: { healthyForMs: 60_000, maxTrialBoots: 2 } });
  try {
    await s.update(await image('1.0.0', 1), { version: '1.0.0', state: 'trial' });
    // the agent restarts before the trial confirms, as after a power cut: each boot counts
    s.box.reboot();
    await s.settle({ version: '1.0.0', state: 'trial' }, (i) => i.pending?.attempts === 2);
    s.box.reboot();
    const r = await s.settle({ version: null });
    assert.equal(r.pipeline.state, 'no-image');
    assert.match(r.rejected.at(-1).reason, /2 trial boots ended without confirming/);
  } finally {
    await s.done();
  }
});

test('a damaged confirmed slot never boots an image below the minimum: the box waits in "no image" and still takes a flash', async () => {
  const s = await setup();
  try {
    await s.update(await image('1.0.0', 1), { version: '1.0.0' });
    await s.update(await image('2.0.0', 2), { version: '2.0.0' });
    // the confirmed slot (b) is damaged; slot a holds 1.0.0 at counter 1, below the minimum 2
    writeFileSync(s.storage.imagePath('b'), Buffer.from('garbage'));
    s.box.reboot();
    const r = await s.settle({ version: null });
    assert.equal(r.running, null);
    assert.match(r.pipeline.reason, /security counter 1 is below the box's minimum 2/);
    await s.rec.until(() => s.rec.json('/status').some((m) => m.state === 'no-image' && /below the box's minimum/.test(String(m.reason))), 2000, 'the no-image status with its reason');
    await s.update(await image('2.0.1', 2), { version: '2.0.1' });
  } finally {
    await s.done();
  }
});

test('a lower version at the same security counter needs a downgrade permission; the running image is not flashed again', async () => {
  const s = await setup();
  try {
    const v3 = await image('3.0.0', 5);
    await s.update(v3, { version: '3.0.0' });
    await assert.rejects(s.client.flash(await image('1.0.0', 5)), (e: DeviceError) => e.status === 'DOWNGRADE' && /older than the confirmed 3\.0\.0/.test(e.message));
    await assert.rejects(s.client.flash(await image('9.0.0', 4)), (e: DeviceError) => e.status === 'DOWNGRADE' && /below the box's minimum 5/.test(e.message));
    await s.update(await image('2.0.0', 5), { version: '2.0.0' }, { allowDowngrade: true });
    await s.update(await image('1.0.0', 5, { allowDowngrade: true }), { version: '1.0.0' });
    const again = await s.client.flash(await image('1.0.0', 5, { allowDowngrade: true }), { activate: true, reboot: true });
    assert.equal(again.alreadyRunning, true);
    assert.equal(again.dataFramesSent, 0);
  } finally {
    await s.done();
  }
});

test('a manifest far larger than one serial frame (an SBOM) flashes', async () => {
  const s = await setup();
  try {
    const sbom = { bomFormat: 'CycloneDX', components: Array.from({ length: 3000 }, (_, i) => ({ name: `dep-${i}`, version: `1.${i}.0`, purl: `pkg:npm/dep-${i}@1.${i}.0` })) };
    const img = await image('1.0.0', 1, { sbom });
    assert.ok(img.readUInt32LE(8) > 200_000, `manifest of ${img.readUInt32LE(8)} bytes`);
    await s.update(img, { version: '1.0.0' });
  } finally {
    await s.done();
  }
});

test('production mode (the default) accepts only the flashing commands; --development the rest', async () => {
  const prod = await setup();
  try {
    assert.equal((await prod.info()).mode, 'production');
    await assert.rejects(prod.client.command(COMMANDS.READ_STATE), (e: DeviceError) => e.status === 'NOT_ALLOWED');
    await assert.rejects(prod.client.command(COMMANDS.ERASE_SLOT, Buffer.from('b')), (e: DeviceError) => e.status === 'NOT_ALLOWED');
  } finally {
    await prod.done();
  }
  const dev = await setup({ development: true });
  try {
    assert.equal((await dev.info()).mode, 'development');
    assert.equal(JSON.parse(Buffer.from(await dev.client.command(COMMANDS.READ_STATE)).toString()).format, 1);
  } finally {
    await dev.done();
  }
});

test('another hardware id, a flipped signature and a flipped payload byte are refused; the running image stays', async () => {
  const s = await setup();
  try {
    await s.update(await image('1.0.0', 4), { version: '1.0.0' });
    await assert.rejects(s.client.flash(await image('1.1.0', 5, { hardwareId: 'other' })), (e: DeviceError) => e.status === 'WRONG_HARDWARE' && /other/.test(e.message));
    const good = await image('1.2.0', 5);
    const badSig = Uint8Array.from(good);
    badSig[64 + good.readUInt32LE(8) + 5] ^= 1;
    await assert.rejects(s.client.flash(badSig), (e: DeviceError) => e.status === 'BAD_SIGNATURE');
    const badPayload = Uint8Array.from(good);
    badPayload[badPayload.length - 1] ^= 1;
    await assert.rejects(s.client.flash(badPayload), (e: DeviceError) => e.status === 'HASH_MISMATCH');
    const i = await s.info();
    assert.equal(i.firmware.version, '1.0.0');
    assert.equal(i.pipeline.state, 'running');
    assert.deepEqual(s.starts, ['1.0.0']);
  } finally {
    await s.done();
  }
});

test('END repeated after its answer was lost gets the same answer; END for another image is still refused', async () => {
  const s = await setup();
  try {
    const img = await image('1.0.0', 1);
    const r = await s.client.flash(img, { activate: false });
    const sha = createHash('sha256').update(img).digest();
    // the host retries END when no answer came (lost on the line, or its timeout ran out while the box verified)
    const again = JSON.parse(new TextDecoder().decode(await s.client.command(COMMANDS.END, sha)));
    assert.deepEqual(again, { slot: r.slot, version: '1.0.0' });
    sha[0] ^= 1;
    await assert.rejects(s.client.command(COMMANDS.END, sha), (e: unknown) => e instanceof DeviceError && e.status === 'BAD_STATE' && /END without BEGIN/.test(e.message));
  } finally {
    await s.done();
  }
});

for (const lose of ['request', 'answer'] as const) {
  test(`a REBOOT whose ${lose} is lost on the line boots the new image once`, async () => {
    let link: LossyRebootLink | undefined;
    const s = await setup({ link: (stream) => (link = new LossyRebootLink(stream, lose)) });
    try {
      // REBOOT is not idempotent: the flasher asks STATUS whether the box took it before sending it again
      await s.update(await image('1.0.0', 1), { version: '1.0.0' });
      assert.ok(link!.lost, `no REBOOT ${lose} was lost`);
      assert.deepEqual(s.starts, ['1.0.0']);
      assert.equal((await s.info()).reboots, 1);
    } finally {
      await s.done();
    }
  });
}

test('a silent transfer is suspended by the input timeout and resumes on the next BEGIN', async () => {
  const s = await setup({ inputTimeoutMs: 150 });
  try {
    const img = await image('1.0.0', 1, { size: 200_000 });
    // HEAD and BEGIN by hand, then silence: the box must not stay wedged in 'receiving'
    const head = img.subarray(0, 64 + img.readUInt32LE(8) + 64);
    const piece = Buffer.alloc(8 + head.length);
    piece.writeUInt32LE(head.length, 0);
    head.copy(piece, 8);
    await s.client.command(COMMANDS.HEAD, piece);
    await s.client.command(COMMANDS.BEGIN, Buffer.concat([createHash('sha256').update(head).digest(), Buffer.from([0])]));
    assert.equal((await s.info()).state, 'receiving');
    await sleep(300);
    assert.equal((await s.info()).state, 'idle');
    const r = await s.client.flash(img, { activate: true });
    assert.equal(r.version, '1.0.0');
  } finally {
    await s.done();
  }
});
