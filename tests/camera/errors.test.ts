// Bad input gives a clear error naming the problem and the file or option:
// unknown schemes and options, missing, truncated and damaged files, ffmpeg
// missing or crashing mid-stream.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { spawnSync, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openSource } from '../../camera/source.js';
import { AunetError, FileError, UsageError } from '../../common/errors.js';
import { CLIP, YBR, US1, BUSI, tempDir } from './helpers.js';
import { runAunet } from '../support/aunet-cli.js';

const tmp = tempDir('errors');
after(() => tmp.remove());

async function drain(spec: string): Promise<number> {
  let n = 0;
  for await (const _ of await openSource(spec)) n++;
  return n;
}

describe('source spec errors', () => {
  it('unknown scheme names the scheme and lists the valid ones', async () => {
    await assert.rejects(openSource('webcam:0'), (e: Error) => e instanceof UsageError && /unknown source scheme "webcam:"/.test(e.message) && /dicom:PATH/.test(e.message));
  });
  it('unknown and malformed options name the option', async () => {
    await assert.rejects(openSource('phantom:?sise=10x10'), (e: Error) => e instanceof UsageError && /unknown option "sise"/.test(e.message));
    await assert.rejects(openSource('phantom:?fps=fast'), (e: Error) => e instanceof UsageError && /fps=fast must be a number/.test(e.message));
    await assert.rejects(openSource('phantom:?size=10by10'), (e: Error) => e instanceof UsageError && /size=10by10/.test(e.message));
    await assert.rejects(openSource(`dicom:${YBR}?fps=3`), (e: Error) => e instanceof UsageError && /unknown option "fps"/.test(e.message));
  });
  it('a path of unknown kind asks for a scheme; a missing one is "not found"; one image gets a hint', async () => {
    const notes = join(tmp.dir, 'notes.txt');
    writeFileSync(notes, 'x');
    await assert.rejects(openSource(notes), (e: Error) => e instanceof UsageError && /cannot tell what kind of source/.test(e.message));
    for (const missing of ['/nope/dir', '/nope/clip.mp4', 'nope.aurec']) {
      await assert.rejects(openSource(missing), (e: Error) => e instanceof FileError && e.code === 'NO_FILE' && e.message === `${missing}: source not found`, missing);
    }
    const image = join(BUSI, 'benign/benign (1).png');
    await assert.rejects(openSource(image), (e: Error) => e instanceof UsageError && /is one image, not a stream: .*folder:DIR.*aunet infer --input/.test(e.message));
  });
});

describe('file errors', () => {
  it('missing files name the file', async () => {
    for (const spec of ['file:/nope/a.mp4', 'dicom:/nope/a.dcm', 'rec:/nope/a.aurec', 'folder:/nope/dir']) {
      await assert.rejects(openSource(spec), (e: Error) => e instanceof FileError && e.message.startsWith('/nope/') && / not found$/.test(e.message), spec);
    }
  });

  it('a video that is not a video', async () => {
    const f = join(tmp.dir, 'not-video.mp4');
    writeFileSync(f, 'hello, I am text');
    await assert.rejects(openSource(`file:${f}`), (e: Error) => e instanceof FileError && e.message.startsWith(f) && /not a readable video/.test(e.message));
  });

  it('a truncated video whose index survives decodes what it can, then says truncated', async () => {
    // faststart puts the index first; cutting the file then loses frames, not the index
    const fast = join(tmp.dir, 'fast.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-i', CLIP, '-c', 'copy', '-movflags', '+faststart', '-y', fast]);
    const cut = join(tmp.dir, 'cut.mp4');
    const bytes = readFileSync(fast);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await assert.rejects(drain(`file:${cut}`), (e: Error) => e instanceof FileError && e.message.startsWith(cut) && /truncated/.test(e.message));
  });

  it('a video cut before its index (moov) is unreadable, with ffprobe reason', async () => {
    const cut = join(tmp.dir, 'cut2.mp4');
    writeFileSync(cut, readFileSync(CLIP).subarray(0, 20000));
    await assert.rejects(openSource(`file:${cut}`), (e: Error) => e instanceof FileError && /moov atom not found/.test(e.message));
  });

  it('ffmpeg missing: says so and how to install it', async () => {
    const r = await runAunet(['probe', `file:${CLIP}`, '--json'], { env: { AUNET_FFPROBE: '/nonexistent/ffprobe', AUNET_FFMPEG: '/nonexistent/ffmpeg' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ffprobe not found .*install the Debian package "ffmpeg"/);
    const prev = process.env.AUNET_FFMPEG;
    process.env.AUNET_FFMPEG = '/nonexistent/ffmpeg';
    try {
      await assert.rejects(drain(`file:${CLIP}`), (e: Error) => e instanceof AunetError && /ffmpeg not found/.test(e.message));
    } finally {
      if (prev === undefined) delete process.env.AUNET_FFMPEG;
      else process.env.AUNET_FFMPEG = prev;
    }
  });

  it('ffmpeg crashing mid-stream (a real SIGSEGV to our decoder) is reported as a crash', async () => {
    const src = await openSource(`file:${join(BUSI, '..', 'clips/butterfly-ocular-phantom.mp4')}`);
    let n = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of src) {
          if (++n === 3) {
            const pids = spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
            assert.equal(pids.length, 1, 'one ffmpeg child');
            process.kill(Number(pids[0]), 'SIGSEGV');
          }
        }
      })(),
      (e: Error) => e instanceof FileError && /ffmpeg crashed \(signal SIGSEGV\)/.test(e.message),
    );
    assert.ok(n >= 3 && n < 369);
  });

  it('truncated and damaged DICOM', async () => {
    const bytes = readFileSync(US1);
    const cut = join(tmp.dir, 'cut.dcm');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
    await assert.rejects(openSource(`dicom:${cut}`), (e: Error) => e instanceof FileError && e.message.startsWith(cut));
    const junk = join(tmp.dir, 'junk.dcm');
    writeFileSync(junk, Buffer.alloc(300, 7));
    await assert.rejects(openSource(`dicom:${junk}`), (e: Error) => e instanceof FileError && /not a readable DICOM/.test(e.message));
  });

  it('a DICOM JPEG frame that is damaged names the frame', async () => {
    const bytes = Buffer.from(readFileSync(YBR));
    // Overwrite the middle of the last frame's entropy-coded data with a marker soup.
    const soi = bytes.lastIndexOf(Buffer.from([0xff, 0xd8]));
    bytes.fill(0xff, soi + 2, soi + 400);
    const bad = join(tmp.dir, 'bad-jpeg.dcm');
    writeFileSync(bad, bytes);
    await assert.rejects(drain(`dicom:${bad}`), (e: Error) => e instanceof FileError && /frame 29/.test(e.message));
  });

  it('not a recording; a recording with a damaged header', async () => {
    await assert.rejects(openSource(`rec:${US1}`), (e: Error) => e instanceof FileError && /not an aunet recording/.test(e.message));
    const r = await runAunet(['record', 'phantom:?size=32x32&frames=2', '--out', join(tmp.dir, 'h.aurec')]);
    assert.equal(r.code, 0, r.stderr);
    const b = readFileSync(join(tmp.dir, 'h.aurec'));
    b[20] ^= 0xff;
    writeFileSync(join(tmp.dir, 'h2.aurec'), b);
    await assert.rejects(openSource(`rec:${join(tmp.dir, 'h2.aurec')}`), (e: Error) => e instanceof FileError && /header is damaged/.test(e.message));
  });

  it('record refuses to overwrite without --force', async () => {
    const out = join(tmp.dir, 'exists.aurec');
    writeFileSync(out, 'x');
    const r = await runAunet(['record', 'phantom:?size=32x32&frames=2', '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists \(.*exists\.aurec\): pass --force/);
  });

  it('a BUSI mask of the wrong size names the mask', async () => {
    const d = join(tmp.dir, 'busi-bad');
    mkdirSync(d);
    copyFileSync(join(BUSI, 'benign/benign (1).png'), join(d, 'x.png'));
    copyFileSync(join(BUSI, 'benign/benign (2)_mask.png'), join(d, 'x_mask.png'));
    await assert.rejects(drain(`folder:${d}`), (e: Error) => e instanceof FileError && /x_mask\.png: mask is \d+x\d+ but its image x\.png is/.test(e.message));
  });
});
