// Dead code stays out: knip (knip.jsonc) finds no file that nothing imports,
// no dependency nothing uses and no import of a package missing from
// package.json; and the same check does fail on a small project with an
// orphan file in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT, packageFile } from '../common/package-root.js';

const KNIP = packageFile('node_modules/knip/bin/knip.js');

function knip(cwd: string) {
  const r = spawnSync(process.execPath, [KNIP, '--no-progress', '--reporter', 'json'], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, issues: r.stdout.trim() ? (JSON.parse(r.stdout) as { issues: { file: string; files: unknown[] }[] }).issues : [], err: r.stderr };
}

test('no unused file, no unused or unlisted dependency', () => {
  const r = knip(PACKAGE_ROOT);
  assert.deepEqual(r.issues, [], `knip (npx knip says it in words):\n${JSON.stringify(r.issues, null, 1)}`);
  assert.equal(r.status, 0, r.err);
});

test('a file nothing imports fails the check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-knip-'));
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module', private: true }));
    writeFileSync(join(dir, 'knip.json'), JSON.stringify({ entry: ['src/main.ts'], project: ['src/**/*.ts'] }));
    writeFileSync(join(dir, 'src/main.ts'), "import { used } from './used.ts';\nconsole.log(used);\n");
    writeFileSync(join(dir, 'src/used.ts'), 'export const used = 1;\n');
    writeFileSync(join(dir, 'src/forgotten.ts'), 'export const forgotten = 2;\n');
    const r = knip(dir);
    assert.notEqual(r.status, 0);
    assert.deepEqual(r.issues.filter((i) => i.files.length).map((i) => i.file), ['src/forgotten.ts']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
