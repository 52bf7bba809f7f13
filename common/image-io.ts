// Reading and writing 8-bit images. Decoding uses fast-png and jpeg-js; every
// reader returns a grey image, because the whole product works on grey B-mode.
import { writeFileSync } from 'node:fs';
import { decode as decodePng, encode as encodePng, hasPngSignature, convertIndexedToRgb } from 'fast-png';
import jpeg from 'jpeg-js';
import { FileError, type ErrorCode } from './errors.js';
import { readInputFile } from './input-file.js';

/** The largest image or frame side the product reads; larger (or 0) is refused before decoding, naming the file. */
export const MAX_IMAGE_SIDE = 8192;

/** Throws a FileError naming `file` unless width and height are whole numbers in 1..MAX_IMAGE_SIDE. */
export function checkImageSize(width: number, height: number, file: string, code: ErrorCode = 'BAD_IMAGE'): void {
  const ok = (v: number) => Number.isInteger(v) && v >= 1 && v <= MAX_IMAGE_SIDE;
  if (!ok(width) || !ok(height)) throw new FileError(file, `${width}x${height} pixels cannot be read (each side must be 1 to ${MAX_IMAGE_SIDE})`, code);
}

export interface GreyImage {
  width: number;
  height: number;
  /** row-major, one byte per pixel */
  data: Uint8Array;
}

export interface RgbImage {
  width: number;
  height: number;
  /** row-major RGB, three bytes per pixel */
  data: Uint8Array;
}

/** ITU-R BT.601 luma, integer: (77 R + 150 G + 29 B + 128) >> 8 (exact for R = G = B). */
export function rgbToGrey(r: number, g: number, b: number): number {
  return (77 * r + 150 * g + 29 * b + 128) >> 8;
}

/** Decode a PNG or JPEG file (any bit depth, grey, grey+alpha, RGB, RGBA, palette) to grey. */
export function readGreyImage(file: string): GreyImage {
  return decodeGreyImage(readInputFile(file, 'image', { regularOnly: true }), file);
}

export function decodeGreyImage(bytes: Uint8Array, file = '<buffer>'): GreyImage {
  // the size a PNG header claims is checked before anything is allocated for it
  if (hasPngSignature(bytes) && bytes.length >= 24) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkImageSize(dv.getUint32(16), dv.getUint32(20), file);
  }
  try {
    if (hasPngSignature(bytes)) return pngToGrey(bytes);
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      const maxResolutionInMP = (MAX_IMAGE_SIDE * MAX_IMAGE_SIDE) / 1e6;
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512, maxResolutionInMP });
      return rgbaToGrey(img.width, img.height, img.data, 4);
    }
  } catch (e) {
    throw new FileError(file, `not a readable PNG/JPEG image: ${(e as Error).message}`, 'BAD_IMAGE');
  }
  throw new FileError(file, 'not a PNG or JPEG image (unknown signature)', 'BAD_IMAGE');
}

function pngToGrey(bytes: Uint8Array): GreyImage {
  const png = decodePng(bytes);
  const { width, height } = png;
  let channels = png.channels;
  let src: ArrayLike<number> = png.data;
  if (png.palette) {
    src = convertIndexedToRgb(png);
    channels = png.palette[0].length;
  }
  // Scale any bit depth to 8 bits: 1-bit masks become 0/255, 16-bit keeps its high byte.
  const max = png.palette ? 255 : (1 << png.depth) - 1;
  const scale = (v: number) => (max === 255 ? v : Math.round((v * 255) / max));
  // fast-png leaves samples of under 8 bits packed, each row padded to a byte.
  if (!png.palette && png.depth < 8) src = unpackBits(png.data as Uint8Array, png.depth, width * channels, height);
  const out = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) {
    const i = p * channels;
    out[p] = channels >= 3 ? rgbToGrey(scale(src[i]), scale(src[i + 1]), scale(src[i + 2])) : scale(src[i]);
  }
  return { width, height, data: out };
}

function unpackBits(packed: Uint8Array, depth: number, samplesPerRow: number, height: number): Uint8Array {
  const out = new Uint8Array(samplesPerRow * height);
  const rowBytes = Math.ceil((samplesPerRow * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < samplesPerRow; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * samplesPerRow + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function rgbaToGrey(width: number, height: number, data: ArrayLike<number>, stride: number): GreyImage {
  const out = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) out[p] = rgbToGrey(data[p * stride], data[p * stride + 1], data[p * stride + 2]);
  return { width, height, data: out };
}

export function encodeGreyPng(img: GreyImage): Uint8Array {
  return encodePng({ width: img.width, height: img.height, data: img.data, channels: 1, depth: 8 });
}

export function encodeRgbPng(img: RgbImage): Uint8Array {
  return encodePng({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 });
}

export function writeGreyPng(file: string, img: GreyImage): void {
  writeFileSync(file, encodeGreyPng(img));
}

export function writeRgbPng(file: string, img: RgbImage): void {
  writeFileSync(file, encodeRgbPng(img));
}
