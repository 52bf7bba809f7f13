#!/usr/bin/env node
// Builds the kernel module (assembly/) for every asconfig.json target into build/:
// asc compiles, then Binaryen (the `binaryen` npm package) checks each module
// (it validates, uses only the features its target allows, has no data
// segments, imports nothing but an optional memory: no `env.abort`; the
// "threads" target imports its shared memory, the others import nothing) and
// optimises it once more. Idempotent and fast: a target whose output is newer
// than every source file, asconfig.json and this script is skipped. The sources
// are assembly/ and the one host file the kernels compile in,
// host/kernels/kernel-constants.ts (error codes and weight layout shared with the host).
// Usage: node scripts/build-wasm.js [--force] [target ...]
import { readFileSync, writeFileSync, statSync, readdirSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import binaryen from 'binaryen';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
const args = process.argv.slice(2);
const force = args.includes('--force');
const wanted = args.filter((a) => !a.startsWith('--'));
const targets = wanted.length ? wanted : Object.keys(config.targets);

/** features each target may use (anything else in the module is an error) */
const FEATURES = {
  simd: ['SIMD128', 'BulkMemory', 'BulkMemoryOpt', 'SignExt', 'MutableGlobals', 'NontrappingFPToInt'],
  relaxed: ['SIMD128', 'RelaxedSIMD', 'BulkMemory', 'BulkMemoryOpt', 'SignExt', 'MutableGlobals', 'NontrappingFPToInt'],
  debug: ['SIMD128', 'BulkMemory', 'BulkMemoryOpt', 'SignExt', 'MutableGlobals', 'NontrappingFPToInt'],
  // the threaded build: the plain-SIMD kernels over an imported shared memory, one instance per thread
  threads: ['SIMD128', 'Atomics', 'BulkMemory', 'BulkMemoryOpt', 'SignExt', 'MutableGlobals', 'NontrappingFPToInt'],
};

function newestMtime(paths) {
  let t = 0;
  for (const p of paths) {
    const st = statSync(p);
    if (st.isDirectory()) t = Math.max(t, newestMtime(readdirSync(p).filter((n) => n !== '__tests__').map((n) => join(p, n))));
    else t = Math.max(t, st.mtimeMs);
  }
  return t;
}

function fail(message) {
  console.error(`build-wasm: ${message}`);
  process.exit(1);
}

function check(target, bytes) {
  const mod = binaryen.readBinary(bytes);
  try {
    const allowed = (FEATURES[target] ?? FEATURES.simd).reduce((m, f) => m | (binaryen.Features[f] ?? 0), 0);
    // readBinary enables every feature; restrict to the target's and validate under them
    mod.setFeatures(allowed);
    if (!mod.validate()) fail(`${target}: module does not validate with features ${FEATURES[target].join(', ')}`);
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const f = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
      if (f.module) fail(`${target}: module imports function ${f.module}.${f.base}; the release module must be standalone`);
    }
    for (let i = 0; i < mod.getNumGlobals(); i++) {
      const g = binaryen.getGlobalInfo(mod.getGlobalByIndex(i));
      if (g.module) fail(`${target}: module imports global ${g.module}.${g.base}`);
    }
    if (mod.getNumDataSegments() > 0) fail(`${target}: module has data segments; the host owns all memory from address 0`);
    if (target !== 'debug') {
      binaryen.setOptimizeLevel(config.targets[target].optimizeLevel ?? 3);
      binaryen.setShrinkLevel(0);
      mod.optimize();
      if (!mod.validate()) fail(`${target}: module does not validate after optimisation`);
    }
    return { binary: mod.emitBinary(), text: mod.emitText() };
  } finally {
    mod.dispose();
  }
}

const sources = [join(root, 'assembly'), join(root, 'host/kernels/kernel-constants.ts'), join(root, 'asconfig.json'), fileURLToPath(import.meta.url)];
const srcTime = newestMtime(sources);
mkdirSync(join(root, 'build'), { recursive: true });
for (const target of targets) {
  const t = config.targets[target];
  if (!t) fail(`unknown target ${target} (asconfig.json has ${Object.keys(config.targets).join(', ')})`);
  const out = join(root, t.outFile);
  if (!force && existsSync(out) && statSync(out).mtimeMs > srcTime) {
    console.log(`build-wasm: ${target} up to date (${t.outFile})`);
    continue;
  }
  const started = Date.now();
  let binary;
  const { error, stderr } = await asc.main(
    ['assembly/index.ts', '--config', 'asconfig.json', '--target', target, '--outFile', t.outFile, '--textFile', t.textFile],
    {
      stdout: process.stdout,
      readFile: (name, baseDir) => { try { return readFileSync(resolve(root, baseDir, name), 'utf8'); } catch { return null; } },
      writeFile: (name, contents, baseDir) => {
        if (name.endsWith('.wasm')) binary = contents;
        else writeFileSync(resolve(root, baseDir, name), contents);
      },
      listFiles: (dirname, baseDir) => { try { return readdirSync(resolve(root, baseDir, dirname)).filter((f) => f.endsWith('.ts')); } catch { return null; } },
    },
  );
  if (error) fail(`${target}: asc failed: ${error.message}\n${stderr.toString()}`);
  if (!binary) fail(`${target}: asc produced no binary`);
  const { binary: final, text } = check(target, binary);
  writeFileSync(join(root, t.textFile), text);
  writeFileSync(out, final);
  console.log(`build-wasm: ${target} -> ${t.outFile} (${final.length} bytes, ${Date.now() - started} ms)`);
}
