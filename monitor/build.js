#!/usr/bin/env node
// Bundles the monitor (monitor/src/main.ts + index.html + monitor.css) into
// monitor/dist/, which the embedded broker and `aunet monitor` serve.
// esbuild with the browser conditions picks mqtt's own browser build
// (dist/mqtt.esm.js, already carrying its Buffer/process/events shims), so no
// Node polyfills are configured here. Output names are fixed and no timestamps
// are embedded: the same sources give the same bytes (deterministic).
// Nothing is fetched from the network at run time: no CDN scripts or fonts.
// Usage: node monitor/build.js [--watch is not offered: rebuilding takes well under a second]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const started = performance.now();

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const result = await build({
  entryPoints: [join(here, 'src/main.ts')],
  outfile: join(dist, 'monitor.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  conditions: ['browser', 'import'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
copyFileSync(join(here, 'index.html'), join(dist, 'index.html'));
copyFileSync(join(here, 'monitor.css'), join(dist, 'monitor.css'));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`monitor: dist/ built in ${(performance.now() - started).toFixed(0)} ms (${(bytes / 1024).toFixed(0)} KiB)\n`);
