// Runs fixtures/export_torch.py (Debian's PyTorch, /usr/bin/python3) once per
// content of the script and of models/training/model.py, caching the exports
// under test-artifacts/cache/ (git-ignored) so repeated test runs are fast.
// A missing PyTorch fails the tests that need it (CI installs python3-torch).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFile } from '../../../common/package-root.js';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, 'fixtures', 'export_torch.py');
const modelPy = packageFile('models/training/model.py');
const PYTHON = '/usr/bin/python3';

export interface TorchVariant {
  name: string;
  kind: 'plain' | 'kerasPad' | 'attn' | 'dynamic';
  filters: number;
  channels: number;
  size: number;
  opset: number;
  constantFolding: boolean;
  padsStride2: [number, number, number, number];
}

export interface TorchFixture extends TorchVariant {
  onnx: string;
  /** uint8 NCHW pixels of the fixed input */
  pixels: Uint8Array;
  /** torch's own probability for it, NCHW float32 */
  output: Float32Array;
}

export function torchFixtures(): TorchFixture[] {
  const hash = createHash('sha256').update(readFileSync(script)).update(readFileSync(modelPy)).digest('hex').slice(0, 16);
  const dir = packageFile(join('test-artifacts', 'cache', 'importers', hash));
  if (!existsSync(join(dir, 'manifest.json'))) {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: the importer tests need Debian's python3-torch`);
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      execFileSync(PYTHON, [script, tmp], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    } catch (e) {
      const err = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`exporting the PyTorch fixtures failed (needs python3-torch at ${PYTHON}):\n${err.slice(-2000)}`);
    }
    // another test process may have finished first; either copy is the same
    if (!existsSync(join(dir, 'manifest.json'))) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } else {
      rmSync(tmp, { recursive: true, force: true });
    }
    // drop exports of older versions of the script or model
    for (const old of readdirSync(dirname(dir))) {
      if (/^[0-9a-f]{16}$/.test(old) && old !== hash) rmSync(join(dirname(dir), old), { recursive: true, force: true });
    }
  }
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TorchVariant[];
  return manifest.map((v) => {
    const out = readFileSync(join(dir, `${v.name}.output.bin`));
    return {
      ...v,
      onnx: join(dir, `${v.name}.onnx`),
      pixels: new Uint8Array(readFileSync(join(dir, `${v.name}.pixels.bin`))),
      output: new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength)),
    };
  });
}

/** NCHW planes to the NHWC bytes the float reference takes. */
export function nchwToNhwc(x: Uint8Array, c: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(x.length);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[i * c + ch] = x[ch * h * w + i];
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
