#!/usr/bin/env node
// Bundles the monitor (monitor/src/main.ts + index.html + monitor.css) into
// monitor/dist/, which the embedded broker and `aunet monitor` serve.
// esbuild with the browser conditions picks mqtt's own browser build
// (dist/mqtt.esm.js, already carrying its Buffer/process/events shims), so no
// Node polyfills are configured here. Output names are fixed and no timestamps
// are embedded: the same sources give the same bytes (deterministic).
// Nothing is fetched from the network at run time: no CDN scripts or fonts.
// No source map by default: monitor/dist/ is what `aunet run` serves and what
// `aunet firmware build` packs into an image's monitor section, and a shipped
// image carries no map of our sources (a map left by an earlier --sourcemap
// build is removed). `--sourcemap` writes monitor.js.map, linked from
// monitor.js, for reading a browser's stack traces while developing; rebuild
// without it before building an image (tests/firmware/monitor-section.test.ts).
// Usage: node monitor/build.js [--sourcemap]   (no --watch: rebuilding takes well under a second)
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const started = performance.now();
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--sourcemap');
if (unknown.length) {
  process.stderr.write(`monitor/build.js: unknown option ${unknown[0]} (only --sourcemap)\n`);
  process.exit(2);
}
const sourcemap = args.includes('--sourcemap');

mkdirSync(dist, { recursive: true });
/** Replace a file atomically: a page being served while we rebuild never gets half a file. */
function put(name, bytes) {
  const tmp = join(dist, `.${name}.tmp`);
  writeFileSync(tmp, bytes);
  renameSync(tmp, join(dist, name));
}
const result = await build({
  entryPoints: [join(here, 'src/main.ts')],
  outfile: join(dist, 'monitor.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  conditions: ['browser', 'import'],
  minify: true,
  sourcemap: sourcemap ? 'linked' : false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  write: false,
});
for (const f of result.outputFiles) put(f.path.slice(dist.length + 1), f.contents);
if (!sourcemap) rmSync(join(dist, 'monitor.js.map'), { force: true });
put('index.html', readFileSync(join(here, 'index.html')));
put('monitor.css', readFileSync(join(here, 'monitor.css')));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`monitor: dist/ built in ${(performance.now() - started).toFixed(0)} ms (${(bytes / 1024).toFixed(0)} KiB${sourcemap ? ', with monitor.js.map: not for firmware images' : ''})\n`);
