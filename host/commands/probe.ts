// `aunet probe SOURCE [--json] [--count N] [--salvage]`: frame count, size, fps
// and a sha256 over all decoded grey frames in order (so testers can check that
// a recording replays bit-exactly). A damaged recording fails (exit 1) naming
// the damage; --salvage probes what can be recovered, labelled as such.
import type { Command } from 'commander';
import { openSource, SOURCE_HELP } from '../../camera/source.js';
import { probeSource } from '../../camera/probe.js';
import { RecordingSource } from '../../camera/sources/recording.js';
import { parseInteger } from '../../common/cli-args.js';
import { printWarnings } from './support/source-warnings.js';

export function register(program: Command): void {
  program
    .command('probe')
    .description('count and hash the frames of a source')
    .argument('<source>', `frame source: ${SOURCE_HELP}`)
    .option('--json', 'print one JSON object {"frames","width","height","fps","sha256"}')
    .option('--count <n>', 'stop after N frames (needed for endless sources)')
    .option('--salvage', 'a damaged recording: probe the frames that can be recovered instead of failing')
    .action(async (spec: string, o: { json?: boolean; count?: string; salvage?: boolean }) => {
      const count = parseInteger(o.count, '--count', { min: 1 });
      const src = await openSource(spec, { salvage: o.salvage });
      printWarnings(src);
      if (src.info.live && count === undefined) process.stderr.write(`aunet: ${spec} is live; probing until it ends or Ctrl-C (use --count N)\n`);
      // Ctrl-C on a live source ends the probe with what was counted so far.
      const stop = () => void src.close();
      process.once('SIGINT', stop);
      const r = await probeSource(src, { count }).finally(() => process.off('SIGINT', stop));
      const rec = src instanceof RecordingSource ? src.status : undefined;
      const salvaged = rec && rec.damaged.length > 0 ? { salvaged: true, lostFrames: rec.lostFrames } : {};
      if (o.json) process.stdout.write(JSON.stringify({ ...r, ...salvaged }) + '\n');
      else {
        const size = r.sizesVary ? `sizes vary, first ${r.width}x${r.height}` : `${r.width}x${r.height}`;
        process.stdout.write(`${spec}: ${r.frames} frames, ${size}, ${r.fps ?? '?'} fps${rec?.damaged.length ? ` (SALVAGED: ${rec.lostFrames} frames lost)` : ''}\nsha256 ${r.sha256}\n`);
      }
    });
}
