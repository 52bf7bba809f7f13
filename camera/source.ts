// Source specs -> frame sources. A spec is `scheme:target[?key=value&...]`, e.g.
//   phantom:?size=320x240&fps=30&seed=7&frames=300
//   folder:../shared/data/busi     file:clip.mp4     v4l2:/dev/video0
//   dicom:cine.dcm                 rec:session.aurec
// A bare path is accepted too and its scheme guessed from what it is.
// Each scheme is one factory in SOURCES (shape of MQTT.js connect/index.ts),
// imported lazily so that opening a folder never loads ffmpeg or DICOM code.
import { extname } from 'node:path';
import { UsageError } from '../common/errors.js';
import { statInput } from '../common/input-file.js';
import { isImageName } from '../common/image-folder.js';
import type { FrameSource } from './frame.js';
import { SourceOptions, type OpenOptions } from './source-options.js';

export type SourceFactory = (target: string, options: SourceOptions, spec: string) => Promise<FrameSource>;

const SOURCES: Record<string, { load: () => Promise<SourceFactory>; help: string }> = {
  phantom: { load: async () => (await import('./sources/phantom.js')).openPhantom, help: 'phantom:[?size=WxH&fps=N&seed=S&frames=N&lesions=0..4]' },
  folder: { load: async () => (await import('./sources/folder.js')).openFolder, help: 'folder:DIR[?fps=N]' },
  file: { load: async () => (await import('./sources/ffmpeg.js')).openVideoFile, help: 'file:PATH' },
  v4l2: { load: async () => (await import('./sources/v4l2.js')).openV4l2, help: 'v4l2:/dev/videoN[?size=WxH&fps=N&input_format=F&queue=N&retry_min_ms=N&retry_max_ms=N&stall_ms=N]' },
  dicom: { load: async () => (await import('./sources/dicom.js')).openDicom, help: 'dicom:PATH' },
  rec: { load: async () => (await import('./sources/recording.js')).openRecording, help: 'rec:PATH' },
};

export const SOURCE_HELP = Object.values(SOURCES)
  .map((s) => s.help)
  .join(', ');

export interface ParsedSpec {
  scheme: string;
  target: string;
  options: SourceOptions;
}

/** Split a spec into scheme, target and options; throws UsageError naming what is wrong (FileError for a bare path that is not there). */
export function parseSpec(spec: string, open: OpenOptions = {}): ParsedSpec {
  if (!spec) throw new UsageError(`empty source spec; use one of ${SOURCE_HELP}`);
  const m = /^([a-z][a-z0-9]+):(.*)$/s.exec(spec);
  let scheme: string;
  let rest: string;
  if (m) {
    scheme = m[1];
    rest = m[2];
    if (!(scheme in SOURCES)) throw new UsageError(`unknown source scheme "${scheme}:" in "${spec}"; use one of ${SOURCE_HELP}`);
  } else {
    scheme = guessScheme(spec);
    rest = spec;
  }
  const q = rest.lastIndexOf('?');
  const target = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : '';
  const options = new SourceOptions(spec, new URLSearchParams(query), open);
  if (!target && scheme !== 'phantom') throw new UsageError(`source "${spec}": missing path after "${scheme}:"`);
  return { scheme, target, options };
}

/** Open the frame source a spec names; `open` says how (tools fail fast, the live service reconnects). */
export async function openSource(spec: string, open: OpenOptions = {}): Promise<FrameSource> {
  const { scheme, target, options } = parseSpec(spec, open);
  const factory = await SOURCES[scheme].load();
  const src = await factory(target, options, spec);
  options.assertAllUsed();
  return src;
}

function guessScheme(path: string): string {
  if (path.startsWith('/dev/video')) return 'v4l2';
  // a bare path must exist: say "not found" rather than guess at its kind
  const st = statInput(path, 'source');
  if (st.isDirectory()) return 'folder';
  const ext = extname(path).toLowerCase();
  if (ext === '.dcm' || ext === '.dicom') return 'dicom';
  if (ext === '.aurec') return 'rec';
  if (['.mp4', '.mkv', '.avi', '.mov', '.webm', '.m4v', '.mpg', '.ts', '.nut', '.y4m'].includes(ext)) return 'file';
  if (isImageName(path)) {
    throw new UsageError(`"${path}" is one image, not a stream: put it in a folder and give folder:DIR, or run it alone with \`aunet infer --input ${path}\``);
  }
  throw new UsageError(`cannot tell what kind of source "${path}" is; write it as one of ${SOURCE_HELP}`);
}
