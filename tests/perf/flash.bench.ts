// Serial flashing throughput over a real pty pair (socat), clean and noisy.
// Run: node --import tsx tests/perf/flash.bench.ts [MiB]
import { rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { boxRoot, firmwareWorkspace, makeImage, noisyWire, ptyPair, startAgent, stopAgent } from '../host/box/helpers-firmware.ts';
import { runAunet } from '../support/aunet-cli.js';
import { setTimeout as sleep } from 'node:timers/promises';

const mib = Number(process.argv[2] ?? 4);
const { dir, key, publicKey } = firmwareWorkspace('flash-bench');
try {
  const image = await makeImage(dir, key, '1.0.0', 1, { padding: mib * (1 << 20) });
  const bytes = statSync(image).size;
  console.log(`# flash benchmark: ${(bytes / (1 << 20)).toFixed(2)} MiB image, ${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}`);
  for (const noise of [null, { flip: 2e-5, drop: 0.02, seed: 3 }]) {
    const host = await ptyPair(dir, `h${noise ? 'n' : 'c'}`);
    const box = noise ? await ptyPair(dir, 'bn') : host;
    const wire = noise ? await noisyWire(host.b, box.a, noise) : null;
    const agent = await startAgent(box.b, boxRoot(dir, `root-${noise ? 'noisy' : 'clean'}`, { broker: { port: 0, httpPort: 0 } }), publicKey);
    const t0 = performance.now();
    const r = await runAunet(['flash', '--port', host.a, '--no-progress', '--data-timeout', '300', image], { timeoutMs: 300_000 });
    const s = (performance.now() - t0) / 1000;
    await stopAgent(agent);
    await wire?.close();
    host.close();
    if (noise) box.close();
    await sleep(100);
    console.log(`${noise ? `noisy (bit flip ${noise.flip}/byte, ${noise.drop * 100}% chunks dropped)` : 'clean'}: ${s.toFixed(2)} s incl. process start, ${(bytes / (1 << 20) / s).toFixed(2)} MiB/s — ${r.stdout.trim() || r.stderr.trim()}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
