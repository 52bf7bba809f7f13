// No source can hang a tool: probe, record and replay answer at once (exit 1,
// naming the device or file and the cause) for a missing capture device, one
// that is not a video device, and one that opens but sends nothing; a FIFO in
// an image folder is skipped with a warning; FIFOs given as files are refused;
// a 0x0 DICOM is refused at open; a path starting with '-' reaches ffmpeg as a
// file, never as an option. `aunet run` keeps reconnecting, and logs and
// publishes why the source is lost.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { openSource } from '../../camera/source.js';
import { probeSource } from '../../camera/probe.js';
import { FileError } from '../../common/errors.js';
import { BUSI, CLIP, US1, tempDir } from './helpers.js';
import { runAunet, startAunet, sleep } from '../support/aunet-cli.js';

const tmp = tempDir('no-hang');
after(() => tmp.remove());
const fifo = (name: string) => {
  const p = join(tmp.dir, name);
  execFileSync('mkfifo', [p]);
  return p;
};

describe('capture devices in the tools fail fast with the cause', () => {
  it('a missing device: probe, record and replay exit 1 at once with "not found"', async () => {
    for (const args of [['probe', 'v4l2:/dev/video99', '--count', '5'], ['record', 'v4l2:/dev/video99', '--out', join(tmp.dir, 'x.aurec')], ['replay', 'v4l2:/dev/video99', '--no-model', '--count', '3']]) {
      const t0 = Date.now();
      const r = await runAunet(args, { timeoutMs: 30_000 });
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^aunet: capture device not found \(\/dev\/video99\): /m);
      assert.ok(Date.now() - t0 < 20_000);
    }
  });

  it('a character device that is not a capture card (/dev/null): record says why ffmpeg cannot read it', async () => {
    const r = await runAunet(['record', 'v4l2:/dev/null', '--out', join(tmp.dir, 'null.aurec'), '--count', '3'], { timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /capture failed: .*\(\/dev\/null\)/);
  });

  it('a device that opens but sends nothing: probe ends after stall_ms with "no frames"', async () => {
    const silent = fifo('silent');
    const t0 = Date.now();
    const r = await runAunet(['probe', `v4l2:${silent}?stall_ms=400`, '--count', '5'], { timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /capture failed: no frames within 400 ms of opening the device/);
    assert.ok(Date.now() - t0 < 15_000, `${Date.now() - t0} ms`);
  });
});

describe('file and folder sources refuse what is not a regular file', () => {
  it('a FIFO named 0.png in a folder is skipped with a warning; the folder still probes', async () => {
    const dir = join(tmp.dir, 'folder-with-fifo');
    mkdirSync(dir);
    copyFileSync(join(BUSI, 'benign/benign (1).png'), join(dir, '1.png'));
    execFileSync('mkfifo', [join(dir, '0.png')]);
    const r = await runAunet(['probe', `folder:${dir}`, '--json'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).frames, 1);
    assert.match(r.stderr, /warning: .*0\.png: skipped, it is a FIFO \(named pipe\), not a regular file/);
  });

  it('FIFOs given as video, DICOM or recording files are refused, naming the file', async () => {
    for (const [scheme, name] of [['file', 'x.mp4'], ['dicom', 'x.dcm'], ['rec', 'x.aurec']]) {
      const p = fifo(name);
      await assert.rejects(openSource(`${scheme}:${p}`), (e: Error) => e instanceof FileError && e.message.startsWith(p) && /is a FIFO \(named pipe\), not a regular file/.test(e.message), scheme);
    }
  });

  it('a 0x0 DICOM is refused at open (probe and record), not by the pipeline later', async () => {
    const b = Buffer.from(readFileSync(US1));
    for (const tag of ['\x28\x00\x10\x00US\x02\x00', '\x28\x00\x11\x00US\x02\x00']) {
      const at = b.indexOf(Buffer.from(tag, 'latin1'));
      assert.ok(at > 0, 'explicit VR Rows/Columns');
      b.writeUInt16LE(0, at + 8);
    }
    const zero = join(tmp.dir, 'zero.dcm');
    writeFileSync(zero, b);
    for (const args of [['probe', `dicom:${zero}`], ['record', `dicom:${zero}`, '--out', join(tmp.dir, 'zero.aurec')]]) {
      const r = await runAunet(args);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /0x0 pixels cannot be read \(each side must be 1 to 8192\) \(.*zero\.dcm\)/);
    }
  });

  it('a video named -y.mp4 is read as a file (never an ffmpeg option)', async () => {
    const dir = join(tmp.dir, 'dash');
    mkdirSync(dir);
    execFileSync('ffmpeg', ['-v', 'error', '-i', CLIP, '-frames:v', '3', '-c', 'copy', join(dir, '-y.mp4')]);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const p = await probeSource(await openSource('file:-y.mp4'));
      assert.equal(p.frames, 3);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('aunet run: a lost capture device', () => {
  it('keeps reconnecting, and logs and publishes why the source is lost', { timeout: 90_000 }, async () => {
    const run = startAunet(['run', '--source', 'v4l2:/nonexistent/video9?retry_min_ms=50&retry_max_ms=200', '--port', '0', '--http-port', '0', '--model', 'random:F2x32']);
    try {
      const m = await run.waitFor(/MQTT: (mqtt:\/\/127\.0\.0\.1:\d+)/, 60_000);
      for (let i = 0; i < 100 && !/source lost: capture device is not present/.test(run.err()); i++) await sleep(100);
      assert.match(run.err(), /"level":40.*source lost: capture device is not present/);
      const client = await mqtt.connectAsync(m[1], { reconnectPeriod: 0 });
      try {
        const status = await new Promise<Record<string, unknown>>((resolve) => {
          client.on('message', (_t, payload) => {
            const s = JSON.parse(payload.toString()) as Record<string, unknown>;
            if (String(s.reason ?? '').includes('source lost')) resolve(s);
          });
          void client.subscribeAsync('aunet/+/status');
        });
        assert.equal(status.state, 'degraded');
        assert.deepEqual(status.reasons, ['source-lost']);
        assert.match(String(status.reason), /^source lost: capture device is not present( \(reconnect attempt \d+\))?$/);
      } finally {
        await client.endAsync();
      }
      assert.equal(run.child.exitCode, null, 'still running, reconnecting');
    } finally {
      await run.stop();
    }
  });
});
