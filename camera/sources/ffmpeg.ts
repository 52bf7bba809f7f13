// file:PATH — video files decoded by Debian's ffmpeg in a subprocess, to 8-bit
// grey raw frames on its stdout. Timestamps come from the stream itself: the
// showinfo filter logs each decoded frame's pts_time on stderr, paired with the
// raw frames in order (-fps_mode passthrough: no frame duplicated or dropped).
// runFfmpeg() is shared with the capture-card source (v4l2.ts).
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Frame } from '../frame.js';
import { BaseSource } from '../frame.js';
import type { SourceOptions } from '../source-options.js';
import { AunetError, FileError } from '../../common/errors.js';
import { checkRegularFile } from '../../common/input-file.js';
import { checkImageSize } from '../../common/image-io.js';

/**
 * A file path as an ffmpeg/ffprobe input URL: the file: protocol and an absolute
 * path, so that no name can be read as an option ("-y.mp4") or as another
 * protocol ("concat:a|b", "http:x.mp4").
 */
export function ffmpegInput(path: string): string {
  return `file:${resolve(path)}`;
}

/** The ffmpeg binaries; AUNET_FFMPEG / AUNET_FFPROBE override (tests point them at a missing path). */
export const ffmpegPath = () => process.env.AUNET_FFMPEG ?? 'ffmpeg';
export const ffprobePath = () => process.env.AUNET_FFPROBE ?? 'ffprobe';

export interface RawFrame {
  width: number;
  height: number;
  pixels: Uint8Array;
  /** stream timestamp in seconds, from showinfo */
  ptsTime?: number;
  /** the decoder's frame number */
  n: number;
}

export interface FfmpegRun {
  frames: AsyncGenerator<RawFrame>;
  kill(): void;
}

const OUTPUT_STREAM = /Stream #0:\d+.*: Video: rawvideo.*?, gray(?:\([^)]*\))?, (\d+)x(\d+)/;
const SHOWINFO = /\[Parsed_showinfo_\d+ @ [^\]]+\] n:\s*(\d+) pts:\s*(-?\d+|NOPTS) pts_time:(\S+)/;

/**
 * Run ffmpeg with the given input arguments; yields grey frames as they decode.
 * `live`: never pause the pipe (a capture card must be drained in real time; the
 * caller drops frames instead). Ends with an AunetError if ffmpeg is missing,
 * exits non-zero or stops mid-frame.
 */
export function runFfmpeg(inputArgs: string[], label: string, live = false): FfmpegRun {
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', ...inputArgs,
    '-an', '-sn', '-dn', '-vf', 'showinfo', '-fps_mode', 'passthrough', '-pix_fmt', 'gray', '-f', 'rawvideo', 'pipe:1'];
  const child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let size: { width: number; height: number } | undefined;
  const pts: number[] = [];
  const ready: Uint8Array[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let stderrTail: string[] = [];
  let lineBuf = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const cut = () => {
    if (!size) return;
    const fb = size.width * size.height;
    if (pendingBytes < fb) return;
    let all = Buffer.concat(pending, pendingBytes);
    while (all.length >= fb) {
      ready.push(new Uint8Array(all.subarray(0, fb))); // copy: the frame outlives the pipe buffer
      all = all.subarray(fb);
    }
    pending = all.length ? [all] : [];
    pendingBytes = all.length;
    if (!live && ready.length > 4) child.stdout.pause(); // back-pressure for files
  };

  child.on('error', (e) => {
    spawnError = e;
    notify();
  });
  child.stdout.on('data', (b: Buffer) => {
    pending.push(b);
    pendingBytes += b.length;
    cut();
    notify();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    lineBuf += s;
    const lines = lineBuf.split(/\r?\n|\r/);
    lineBuf = lines.pop() ?? '';
    for (const line of lines) {
      const si = SHOWINFO.exec(line);
      if (si) {
        pts.push(si[2] === 'NOPTS' ? NaN : Number(si[3]));
        continue;
      }
      const os = size ? null : OUTPUT_STREAM.exec(line);
      if (os) {
        size = { width: Number(os[1]), height: Number(os[2]) };
        cut();
      }
      if (line.trim()) stderrTail = [...stderrTail.slice(-7), line.trim()];
    }
    notify();
  });
  child.on('close', (code, signal) => {
    exit = { code, signal };
    notify();
  });

  async function* frames(): AsyncGenerator<RawFrame> {
    let n = 0;
    try {
      for (;;) {
        if (spawnError) {
          const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
          throw new AunetError('NO_FFMPEG', missing ? `${label}: ffmpeg not found (${ffmpegPath()}); install the Debian package "ffmpeg"` : `${label}: cannot start ffmpeg: ${spawnError.message}`);
        }
        // A frame is complete once its pts has been logged too (or ffmpeg has exited).
        if (ready.length > 0 && (pts.length > n || exit)) {
          const pixels = ready.shift() as Uint8Array;
          if (ready.length <= 2 && child.stdout.isPaused()) child.stdout.resume();
          const p = pts[n];
          yield { ...(size as { width: number; height: number }), pixels, ptsTime: Number.isFinite(p) ? p : undefined, n: n++ };
          continue;
        }
        if (exit) {
          if (exit.signal && !killedByUs) {
            throw new FileError(label, `ffmpeg crashed (signal ${exit.signal}) after ${n} frames: ${stderrTail.join(' | ')}`, 'FFMPEG_CRASH');
          }
          if (exit.code !== 0 && exit.code !== null) {
            throw new FileError(label, `ffmpeg failed (exit ${exit.code}) after ${n} frames: ${stderrTail.slice(-3).join(' | ')}`, 'FFMPEG_FAILED');
          }
          if (!size && pendingBytes > 0) throw new FileError(label, `cannot tell the frame size: ffmpeg printed no "Output ... gray, WxH" stream line (${ffmpegPath()} too old or too new?)`, 'FFMPEG_OUTPUT');
          if (pendingBytes > 0) throw new FileError(label, `truncated: stream ended inside frame ${n} (${pendingBytes} stray bytes)`, 'TRUNCATED');
          return;
        }
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      kill();
    }
  }

  // SIGTERM lets ffmpeg stop cleanly; one blocked opening a device or FIFO may ignore it.
  let killedByUs = false;
  const kill = () => {
    if (exit) return;
    killedByUs = true;
    child.kill('SIGTERM');
    setTimeout(() => {
      if (!exit) child.kill('SIGKILL');
    }, 1000).unref();
  };
  return { frames: frames(), kill };
}

export interface ProbeInfo {
  width: number;
  height: number;
  fps?: number;
  frameCount?: number;
  codec: string;
}

/** Ask ffprobe what the file holds (size, frame rate, frame count as the container states it). */
export function ffprobe(path: string): ProbeInfo {
  const r = spawnSync(ffprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,codec_name,avg_frame_rate,r_frame_rate,nb_frames', '-of', 'json', ffmpegInput(path)], { encoding: 'utf8' });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AunetError('NO_FFMPEG', missing ? `${path}: ffprobe not found (${ffprobePath()}); install the Debian package "ffmpeg"` : `${path}: cannot run ffprobe: ${r.error.message}`);
  }
  if (r.status !== 0) throw new FileError(path, `not a readable video: ${r.stderr.trim().split('\n').slice(-2).join(' | ') || `ffprobe exit ${r.status}`}`, 'BAD_VIDEO');
  const streams = (JSON.parse(r.stdout) as { streams?: Record<string, string | number>[] }).streams ?? [];
  const s = streams[0];
  if (!s || !s.width || !s.height) throw new FileError(path, 'no video stream in this file', 'BAD_VIDEO');
  checkImageSize(Number(s.width), Number(s.height), path, 'BAD_VIDEO');
  const rate = (v: unknown) => {
    const [a, b] = String(v ?? '').split('/').map(Number);
    return a > 0 && b > 0 ? a / b : undefined;
  };
  const nb = Number(s.nb_frames);
  return { width: Number(s.width), height: Number(s.height), fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate), frameCount: nb > 0 ? nb : undefined, codec: String(s.codec_name) };
}

class VideoFileSource extends BaseSource {
  #run: FfmpegRun | undefined;

  constructor(spec: string, private readonly path: string, probe: ProbeInfo) {
    super({ spec, kind: 'file', live: false, fps: probe.fps, width: probe.width, height: probe.height, frameCount: probe.frameCount }, 'live');
  }

  protected async *frames(): AsyncGenerator<Frame> {
    this.#run = runFfmpeg(['-i', ffmpegInput(this.path)], this.path);
    const wall0 = Date.now();
    const fps = this.info.fps ?? 30;
    let first: number | undefined;
    let id = 0;
    const expected = this.info.frameCount;
    const frames = this.#run.frames;
    for (;;) {
      let next: IteratorResult<RawFrame>;
      try {
        next = await frames.next();
      } catch (e) {
        // ffmpeg gave up part-way through a file that lists more frames: say truncated.
        if (e instanceof FileError && e.code === 'FFMPEG_FAILED' && expected !== undefined && id < expected) {
          throw new FileError(this.path, `truncated or damaged: decoded ${id} of the ${expected} frames the container lists (${e.message.slice(this.path.length + 2)})`, 'TRUNCATED');
        }
        throw e;
      }
      if (next.done) break;
      const raw = next.value;
      // Timeline from the stream's pts, starting at 0; a frame without pts gets the nominal one.
      const t = raw.ptsTime ?? (first ?? 0) + id / fps;
      first ??= t;
      const rel = t - first;
      yield {
        id,
        captureTime: { monoNs: BigInt(Math.round(rel * 1e9)), wallMs: wall0 + rel * 1000 },
        width: raw.width,
        height: raw.height,
        pixels: raw.pixels,
        meta: { source: 'file', ptsTime: t, decoderFrame: raw.n },
      };
      id++;
    }
    if (expected !== undefined && id < expected) {
      throw new FileError(this.path, `truncated or damaged: decoded ${id} of the ${expected} frames the container lists`, 'TRUNCATED');
    }
  }

  override async close(): Promise<void> {
    await super.close();
    this.#run?.kill();
  }
}

export async function openVideoFile(path: string, _opts: SourceOptions, spec: string): Promise<VideoFileSource> {
  checkRegularFile(path, 'video');
  return new VideoFileSource(spec, path, ffprobe(path));
}
