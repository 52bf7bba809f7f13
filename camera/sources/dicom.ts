// dicom:PATH — ultrasound DICOM, single or multi-frame (cine): native (uncompressed)
// little-endian pixel data and JPEG baseline (1.2.840.10008.1.2.4.50/.51), parsed
// by dicom-parser, JPEG frames decoded by jpeg-js. Colour (RGB, YBR_FULL,
// YBR_FULL_422) becomes grey with BT.601 luma, as every reader here does.
// Frame timing from the header: Frame Time Vector, Frame Time, Cine Rate or
// Recommended Display Frame Rate, in that order; wall time from the acquisition
// or content date/time when present.
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import jpeg from 'jpeg-js';
import type { Frame } from '../frame.js';
import { BaseSource } from '../frame.js';
import type { SourceOptions } from '../source-options.js';
import { checkImageSize, rgbToGrey } from '../../common/image-io.js';
import { FileError } from '../../common/errors.js';
import { readInputFile } from '../../common/input-file.js';

const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99']);
const JPEG_BASELINE = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51']);

interface Layout {
  rows: number;
  columns: number;
  samples: number;
  bitsAllocated: number;
  bitsStored: number;
  photometric: string;
  planar: number;
  frames: number;
  syntax: string;
  signed: boolean;
}

/** A parsed DICOM file that yields its frames as grey images. */
export class DicomCine {
  readonly layout: Layout;
  /** start time of each frame in ms from the first */
  readonly frameTimesMs: number[];
  readonly fps: number | undefined;
  readonly wallStartMs: number | undefined;
  readonly #ds: DataSet;
  readonly #pixels: Element;
  #offsets: number[] | undefined;

  constructor(readonly path: string, bytes: Uint8Array) {
    let ds: DataSet;
    try {
      ds = dicomParser.parseDicom(bytes);
    } catch (e) {
      const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'exception' in e ? String((e as { exception: unknown }).exception) : String(e);
      throw new FileError(path, `not a readable DICOM file: ${msg}`, 'BAD_DICOM');
    }
    this.#ds = ds;
    const px = ds.elements.x7fe00010;
    if (!px) throw new FileError(path, 'no Pixel Data (7FE0,0010): not an image', 'BAD_DICOM');
    this.#pixels = px;
    const need = (tag: string, name: string) => {
      const v = ds.uint16(tag);
      if (v === undefined) throw new FileError(path, `missing ${name} (${tag.slice(1, 5)},${tag.slice(5)})`, 'BAD_DICOM');
      return v;
    };
    const syntax = (ds.string('x00020010') ?? '1.2.840.10008.1.2').trim();
    this.layout = {
      rows: need('x00280010', 'Rows'),
      columns: need('x00280011', 'Columns'),
      samples: ds.uint16('x00280002') ?? 1,
      bitsAllocated: need('x00280100', 'Bits Allocated'),
      bitsStored: ds.uint16('x00280101') ?? need('x00280100', 'Bits Allocated'),
      photometric: (ds.string('x00280004') ?? 'MONOCHROME2').trim(),
      planar: ds.uint16('x00280006') ?? 0,
      frames: Math.max(1, ds.intString('x00280008') ?? 1),
      syntax,
      signed: ds.uint16('x00280103') === 1,
    };
    const L = this.layout;
    // 0x0 (or absurd) frames are refused here, not when the pipeline meets them
    checkImageSize(L.columns, L.rows, path, 'BAD_DICOM');
    if (!NATIVE.has(syntax) && !JPEG_BASELINE.has(syntax)) {
      throw new FileError(path, `transfer syntax ${syntax} is not supported (only uncompressed little-endian and JPEG baseline)`, 'UNSUPPORTED');
    }
    if (!['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422'].includes(L.photometric)) {
      throw new FileError(path, `photometric interpretation ${L.photometric} is not supported (MONOCHROME1/2, RGB, YBR_FULL, YBR_FULL_422)`, 'UNSUPPORTED');
    }
    if (NATIVE.has(syntax)) {
      if (L.bitsAllocated !== 8 && L.bitsAllocated !== 16) throw new FileError(path, `Bits Allocated ${L.bitsAllocated} is not supported (8 or 16)`, 'UNSUPPORTED');
      if (L.photometric === 'YBR_FULL_422') throw new FileError(path, 'uncompressed YBR_FULL_422 is not supported', 'UNSUPPORTED');
      const need = L.rows * L.columns * L.samples * (L.bitsAllocated / 8) * L.frames;
      if (px.dataOffset + need > bytes.length || px.length < need) {
        throw new FileError(path, `truncated: Pixel Data holds ${Math.min(px.length, bytes.length - px.dataOffset)} bytes, ${L.frames} frame(s) of ${L.columns}x${L.rows}x${L.samples} need ${need}`, 'TRUNCATED');
      }
    }
    // Timing
    const vector = ds.string('x00181065');
    const frameTime = ds.floatString('x00181063');
    const cineRate = ds.intString('x00180040') ?? ds.intString('x00082144');
    let interval: number | undefined;
    this.frameTimesMs = [];
    if (vector) {
      // Frame Time Vector: increments, the first one 0
      const incs = vector.split('\\').map(Number);
      let t = 0;
      for (let i = 0; i < L.frames; i++) {
        t += i === 0 ? 0 : Number.isFinite(incs[i]) ? incs[i] : (incs[incs.length - 1] ?? 0);
        this.frameTimesMs.push(t);
      }
      interval = L.frames > 1 ? this.frameTimesMs[L.frames - 1] / (L.frames - 1) : undefined;
    } else {
      interval = frameTime && frameTime > 0 ? frameTime : cineRate && cineRate > 0 ? 1000 / cineRate : undefined;
      for (let i = 0; i < L.frames; i++) this.frameTimesMs.push(i * (interval ?? 1000 / 30));
    }
    this.fps = interval ? 1000 / interval : undefined;
    this.wallStartMs = dicomDateTime(ds.string('x0008002a')) ?? dicomDateTime(ds.string('x00080022'), ds.string('x00080032')) ?? dicomDateTime(ds.string('x00080023'), ds.string('x00080033'));
  }

  /** Frame i as grey pixels. */
  frame(i: number): Uint8Array {
    const L = this.layout;
    return JPEG_BASELINE.has(L.syntax) ? this.#jpegFrame(i) : this.#nativeFrame(i);
  }

  #nativeFrame(i: number): Uint8Array {
    const L = this.layout;
    const n = L.rows * L.columns;
    const bytesPer = L.bitsAllocated / 8;
    const frameBytes = n * L.samples * bytesPer;
    const base = this.#pixels.dataOffset + i * frameBytes;
    const src = this.#ds.byteArray;
    const out = new Uint8Array(n);
    if (L.samples === 1) {
      const shift = Math.max(0, L.bitsStored - 8);
      for (let p = 0; p < n; p++) {
        let v = bytesPer === 1 ? src[base + p] : src[base + 2 * p] | (src[base + 2 * p + 1] << 8);
        if (L.signed && bytesPer === 2) v = ((v << 16) >> 16) + (1 << (L.bitsStored - 1));
        else if (L.signed) v = ((v << 24) >> 24) + 128;
        v = Math.min(255, Math.max(0, v >> shift));
        out[p] = L.photometric === 'MONOCHROME1' ? 255 - v : v;
      }
      return out;
    }
    if (bytesPer !== 1) throw new FileError(this.path, '16-bit colour pixel data is not supported', 'UNSUPPORTED');
    const at = (p: number, c: number) => (L.planar === 1 ? src[base + c * n + p] : src[base + p * 3 + c]);
    for (let p = 0; p < n; p++) {
      // YBR_FULL: Y is the luma already; RGB: BT.601 luma
      out[p] = L.photometric === 'RGB' ? rgbToGrey(at(p, 0), at(p, 1), at(p, 2)) : at(p, 0);
    }
    return out;
  }

  #jpegFrame(i: number): Uint8Array {
    const L = this.layout;
    let data: Uint8Array;
    try {
      if (!this.#offsets) {
        const bot = this.#pixels.basicOffsetTable ?? [];
        this.#offsets = bot.length > 0 ? bot : dicomParser.createJPEGBasicOffsetTable(this.#ds, this.#pixels);
      }
      data = dicomParser.readEncapsulatedImageFrame(this.#ds, this.#pixels, i, this.#offsets) as Uint8Array;
    } catch (e) {
      throw new FileError(this.path, `cannot read JPEG frame ${i}: ${String((e as Error).message ?? e)}`, 'BAD_DICOM');
    }
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(data, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 512 });
    } catch (e) {
      throw new FileError(this.path, `JPEG frame ${i} is damaged: ${(e as Error).message}`, 'BAD_DICOM');
    }
    if (img.width !== L.columns || img.height !== L.rows) {
      throw new FileError(this.path, `JPEG frame ${i} is ${img.width}x${img.height}, the header says ${L.columns}x${L.rows}`, 'BAD_DICOM');
    }
    const n = L.rows * L.columns;
    const ch = img.data.length / n; // jpeg-js gives 1 (grey) or 3 (RGB, YCbCr transformed) channels
    if (ch === 1) return L.photometric === 'MONOCHROME1' ? img.data.map((v) => 255 - v) : img.data;
    const out = new Uint8Array(n);
    for (let p = 0; p < n; p++) out[p] = rgbToGrey(img.data[p * ch], img.data[p * ch + 1], img.data[p * ch + 2]);
    return out;
  }
}

/** DICOM DT (YYYYMMDDHHMMSS.FFFFFF) or DA + TM -> epoch ms, treated as UTC (DICOM has no zone unless given). */
function dicomDateTime(a?: string, tm?: string): number | undefined {
  if (!a) return undefined;
  const s = (tm ? a.trim() + tm.trim() : a.trim()).replace(/[+-]\d{4}$/, '');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?/.exec(s);
  if (!m) return undefined;
  const ms = m[7] ? Number(m[7].padEnd(6, '0')) / 1000 : 0;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms);
  return Number.isFinite(t) ? t : undefined;
}

class DicomSource extends BaseSource {
  constructor(spec: string, private readonly cine: DicomCine) {
    const L = cine.layout;
    super({ spec, kind: 'dicom', live: false, fps: cine.fps, width: L.columns, height: L.rows, frameCount: L.frames }, 'live');
  }

  protected async *frames(): AsyncGenerator<Frame> {
    const c = this.cine;
    const wall0 = c.wallStartMs ?? Date.now();
    for (let id = 0; id < c.layout.frames && !this.closed; id++) {
      const tMs = c.frameTimesMs[id];
      yield {
        id,
        captureTime: { monoNs: BigInt(Math.round(tMs * 1e6)), wallMs: wall0 + tMs },
        width: c.layout.columns,
        height: c.layout.rows,
        pixels: c.frame(id),
        meta: { source: 'dicom', frame: id, photometric: c.layout.photometric, transferSyntax: c.layout.syntax },
      };
    }
  }
}

export async function openDicom(path: string, _opts: SourceOptions, spec: string): Promise<DicomSource> {
  return new DicomSource(spec, new DicomCine(path, readInputFile(path, 'DICOM file', { regularOnly: true })));
}
