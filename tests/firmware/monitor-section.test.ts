// A firmware image's monitor section carries the monitor as it is served and
// nothing of our sources: no source map file and no sourceMappingURL comment
// (monitor/build.js writes a map only with --sourcemap, for development, and
// removes one an earlier such build left). Built the integrator's way: the
// monitor's default build, then `aunet firmware build` with its default
// monitor folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { parseImage, section } from '../../firmware/image.ts';
import { randomQModel } from '../../models/random-qmodel.ts';
import { writeModel } from '../../models/format.ts';
import { runAunet } from '../support/aunet-cli.js';

/** Every file of a tar section with its bytes. */
async function untar(bytes: Uint8Array): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => void chunks.push(c as Buffer));
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(Buffer.from(bytes));
  await done;
  return files;
}

test('a built image\'s monitor section has no source map and no sourceMappingURL comment', async () => {
  const built = spawnSync(process.execPath, ['monitor/build.js'], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'aunet-fwmon-'));
  try {
    assert.equal((await runAunet(['keys', 'generate', '--out', join(dir, 'keys')])).code, 0);
    const model = join(dir, 'm.aunet');
    writeModel(model, randomQModel({ filters: 1, height: 16, width: 16, channels: 1 }, { seed: 3 }));
    const out = join(dir, 'fw.aufw');
    const b = await runAunet(['firmware', 'build', '--key', join(dir, 'keys/private.pem'), '--model', model, '--version', '1.0.0', '--security-counter', '1', '--out', out]);
    assert.equal(b.code, 0, b.stderr);
    const files = await untar(section(parseImage(readFileSync(out)), 'monitor'));
    assert.ok(files.has('monitor.js') && files.has('index.html'), `the monitor is in the image: ${[...files.keys()].join(', ')}`);
    assert.deepEqual([...files.keys()].filter((n) => n.endsWith('.map')), [], 'no source map file');
    for (const [name, body] of files) assert.doesNotMatch(body.toString('latin1'), /sourceMappingURL/, `${name} points to no source map`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
