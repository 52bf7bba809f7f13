// The layer order of docs/architecture.md holds: dependency-cruiser with the
// project's own rules (.dependency-cruiser.cjs) finds no upward import and no
// cycle in the tree, and the same rules do fail on small trees that break them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PACKAGE_ROOT, packageFile } from '../common/package-root.js';

const CONFIG = packageFile('.dependency-cruiser.cjs');
const DEPCRUISE = packageFile('node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const SOURCE_FOLDERS = ['common', 'contracts', 'models', 'camera', 'firmware', 'monitor/src', 'host', 'bin', 'scripts'];

function cruise(cwd: string, folders: string[]) {
  const r = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'err', ...folders], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the tree imports downward only, with no cycles', () => {
  const r = cruise(PACKAGE_ROOT, SOURCE_FOLDERS);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /no dependency violations found/);
});

/** A throw-away tree of files (path -> source) cruised with the project's rules. */
function cruiseFixture(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-layers-'));
  try {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }));
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), source);
    }
    const folders = [...new Set(Object.keys(files).map((p) => p.split('/')[0]))];
    return cruise(dir, folders);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an upward import fails the check: camera/ importing from host/', () => {
  const r = cruiseFixture({
    'camera/source.ts': "import { x } from '../host/engine/engine.js';\nexport const y = x;\n",
    'host/engine/engine.ts': 'export const x = 1;\n',
  });
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /layer-camera: camera\/source\.ts → host\/engine\/engine\.ts/);
});

test('the browser code may not import the host, even for a type', () => {
  const r = cruiseFixture({
    'monitor/src/main.ts': "import type { X } from '../../host/publish/broker.js';\nexport type Y = X;\n",
    'host/publish/broker.ts': 'export type X = number;\n',
  });
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /layer-monitor-src/);
});

test('a cycle between the folders inside host/ fails the check', () => {
  const r = cruiseFixture({
    'host/engine/a.ts': "import { b } from '../chip/b.js';\nexport const a = () => b;\n",
    'host/chip/b.ts': "import { a } from '../engine/a.js';\nexport const b = () => a;\n",
  });
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /no-circular/);
  assert.match(r.out, /layer-host-engine: host\/engine\/a\.ts → host\/chip\/b\.ts/);
});

test('a cycle between two files of one folder fails the check', () => {
  const r = cruiseFixture({
    'models/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'models/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
  });
  assert.notEqual(r.status, 0, r.out);
  assert.match(r.out, /no-circular: models\/(a|b)\.ts/);
});
