// `aunet record SOURCE --out FILE [--count N]`: record a frame source losslessly
// to an .aurec file (docs/recording-format.md). The index is fsynced every
// --flush-frames frames or --flush-ms ms; a crash loses only what came after.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { openSource, SOURCE_HELP } from '../../camera/source.js';
import { Recorder } from '../../camera/recorder.js';
import { parseInteger, parseNumber } from '../../common/cli-args.js';
import { packageVersion } from '../../common/package-root.js';
import { printWarnings } from './support/source-warnings.js';

interface RecordFlags {
  out?: string;
  count?: string;
  force?: boolean;
  flushFrames: string;
  flushMs: string;
  flushLog?: boolean;
  salvage?: boolean;
}

export function register(program: Command): void {
  program
    .command('record')
    .description('record a frame source losslessly (frames, timestamps, masks, metadata)')
    .argument('<source>', `frame source: ${SOURCE_HELP}`)
    .requiredOption('-o, --out <file>', 'recording to write (.aurec)')
    .option('--count <n>', 'stop after N frames')
    .option('--force', 'overwrite FILE if it exists')
    .option('--flush-frames <n>', 'fsync the index every N frames', '30')
    .option('--flush-ms <ms>', 'and at least every MS milliseconds', '1000')
    .option('--flush-log', 'print "flushed N" on stdout after each fsync (for supervisors and tests)')
    .option('--salvage', 'a damaged recording as the source: copy the frames that can be recovered')
    .action(async (spec: string, o: RecordFlags) => {
      const count = parseInteger(o.count, '--count', { min: 1 });
      const flushFrames = parseInteger(o.flushFrames, '--flush-frames', { min: 1 });
      const flushMs = parseNumber(o.flushMs, '--flush-ms', { min: 0 });
      const src = await openSource(spec, { salvage: o.salvage });
      printWarnings(src);
      const rec = new Recorder(o.out as string, src.info, packageVersion(), {
        force: o.force,
        flushFrames,
        flushMs,
        onFlush: o.flushLog ? (n) => process.stdout.write(`flushed ${n}\n`) : undefined,
      });
      const total = count ?? src.info.frameCount;
      const bar = process.stderr.isTTY && total
        ? new cliProgress.SingleBar({ format: 'record {bar} {value}/{total} frames', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
        : undefined;
      bar?.start(total as number, 0);
      // Ctrl-C ends a live recording cleanly (flush + end record).
      const stop = () => void src.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        for await (const f of src) {
          rec.append(f);
          bar?.increment();
          if (count !== undefined && rec.frames >= count) break;
        }
      } finally {
        bar?.stop();
        rec.close();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      process.stderr.write(`aunet: recorded ${rec.frames} frames to ${o.out}\n`);
    });
}
