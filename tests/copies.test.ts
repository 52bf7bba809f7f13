// The copy gate: jscpd (a maintained copy detector) finds no block of 6 lines
// and 50 tokens or more that stands twice in the tree, except the pairs listed
// in ALLOWED with their reason; and the same check does fail on a small tree
// into which a block was pasted (as tests/layers.test.ts does for the layers).
// `duplicates --change --base main` finds looser, same-shape copies while one
// writes; this gate keeps exact ones out for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT, packageFile } from '../common/package-root.js';

const JSCPD = packageFile('node_modules/jscpd/bin/jscpd');
/** The threshold: a copy is this many lines and tokens at least (jscpd's token count ignores layout). */
const MIN_LINES = 6;
const MIN_TOKENS = 50;
/** Not ours, generated, or data. */
const IGNORE = ['**/node_modules/**', 'build/**', 'dist/**', 'monitor/dist/**', 'test-artifacts/**', '.tmp/**', 'tests/fixtures/**', 'models/training/runs/**'];

/** Pairs of files allowed to share blocks, and why. */
const ALLOWED: { files: [string, string]; why: string }[] = [
  {
    // Deliberate unrolling: in the 4-channel x 2-pixel and the 1-channel x
    // 8-pixel paths, the three kernel rows (ky = 0, 1, 2) are written out, each
    // with one induction variable and every address base + j, so that the hot
    // loop carries no row loop and no address arithmetic (AssemblyScript and V8
    // do not unroll it; the benchmark in docs/benchmarks.md is what it buys).
    // host/kernels/reference/conv3x3.ts is the same computation as a loop.
    files: ['assembly/kernels/conv3x3.ts', 'assembly/kernels/conv3x3.ts'],
    why: 'conv3x3 kernel rows unrolled on purpose',
  },
  {
    // The requantize prologue of the two kernels: the vector constants of
    // multiplyByQuantizedMultiplier splatted into locals before the hot loop.
    // Sharing them would need a struct (an allocation, which kernels never
    // make) or a multi-value return, which AssemblyScript does not have.
    files: ['assembly/kernels/concat.ts', 'assembly/kernels/gate.ts'],
    why: 'requantize constants hoisted into locals per kernel',
  },
  {
    // conv3x3's argument list (the kernel ABI, docs/adding-an-op.md), taken as it is by the
    // paths it dispatches to: conv3x3Winograd (stride 1) and conv3x3Narrow (cin < 8).
    files: ['assembly/kernels/conv3x3-winograd.ts', 'assembly/kernels/conv3x3.ts'],
    why: 'the conv3x3 argument list, repeated by its Winograd path',
  },
];

interface Clone {
  lines: number;
  firstFile: { name: string; start: number; end: number };
  secondFile: { name: string; start: number; end: number };
}

/** jscpd over `dir` with the gate's threshold; the clones it reports. */
function findCopies(dir: string): Clone[] {
  const out = mkdtempSync(join(tmpdir(), 'aunet-jscpd-'));
  try {
    const r = spawnSync(process.execPath, [
      JSCPD, '--min-lines', String(MIN_LINES), '--min-tokens', String(MIN_TOKENS),
      '--format', 'typescript,javascript,python', '--gitignore', '--ignore', IGNORE.join(','),
      '--reporters', 'json', '--output', out, '--silent', '.',
    ], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `jscpd failed:\n${r.stdout}\n${r.stderr}`);
    return (JSON.parse(readFileSync(join(out, 'jscpd-report.json'), 'utf8')) as { duplicates: Clone[] }).duplicates;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const allowed = (c: Clone) => ALLOWED.some(({ files: [a, b] }) => (c.firstFile.name === a && c.secondFile.name === b) || (c.firstFile.name === b && c.secondFile.name === a));
const where = (c: Clone) => `${c.firstFile.name}:${c.firstFile.start} ~ ${c.secondFile.name}:${c.secondFile.start} (${c.lines} lines)`;

test(`no block of ${MIN_LINES}+ lines stands twice in the tree, but for the allowed pairs`, () => {
  const copies = findCopies(PACKAGE_ROOT).filter((c) => !allowed(c));
  assert.deepEqual(copies.map(where), [], 'copied blocks: make one place serve both (or, if the copy is deliberate, add the pair to ALLOWED with the reason)');
});

test('a pasted block fails the gate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-copies-'));
  try {
    const block = Array.from({ length: 8 }, (_, i) => `  total += weights[${i}] * Math.max(0, inputs[${i}] - offset) / scale;`).join('\n');
    const files: Record<string, string> = {
      'common/a.ts': `export function a(weights: number[], inputs: number[], offset: number, scale: number): number {\n  let total = 0;\n${block}\n  return total;\n}\n`,
      'host/b.ts': `export function b(weights: number[], inputs: number[], offset: number, scale: number): number {\n  let total = 1;\n${block}\n  return total * 2;\n}\n`,
    };
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), source);
    }
    const copies = findCopies(dir);
    assert.equal(copies.length, 1, JSON.stringify(copies));
    assert.match(where(copies[0]), /common\/a\.ts:\d+ ~ host\/b\.ts:\d+|host\/b\.ts:\d+ ~ common\/a\.ts:\d+/);
    assert.ok(!allowed(copies[0]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
