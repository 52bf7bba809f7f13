// The --engine, --kernels and --threads options of the commands that run the model,
// in one place: commander checks the choices and the one flag parser the numbers (a bad
// value is a usage error, exit 2), and the choices are the engine loader's own
// (host/load/engine-loader.ts).
import { Option } from 'commander';
import { integerOption } from '../../../common/cli-args.js';
import { MAX_THREADS } from '../../../common/thread-count.js';
import { ENGINE_KINDS, KERNELS_NAMES, type EngineKind } from '../../load/engine-loader.js';

/** `--engine <kind>`: direct or chip; `fallback` is the default (none: the config decides). */
export function engineOption(help = 'direct (whole-layer executor) or chip (the chip model)', fallback?: EngineKind): Option {
  const o = new Option('--engine <kind>', help).choices(ENGINE_KINDS);
  return fallback === undefined ? o : o.default(fallback);
}

/** `--kernels <name>`: wasm (the best WebAssembly build) or reference (the TypeScript integer kernels). */
export function kernelsOption(): Option {
  return new Option('--kernels <name>', 'wasm or reference (TypeScript integer kernels, slow)').choices(KERNELS_NAMES).default('wasm');
}

/**
 * `--threads <n>`: threads that run the kernels, this one included (the loader's default when
 * not given: AUNET_THREADS, else one per core; `defaultHelp` says otherwise where it differs).
 */
export function threadsOption(defaultHelp = 'AUNET_THREADS, else one per core'): Option {
  return new Option('--threads <n>', `threads that run the kernels, 1..${MAX_THREADS} (default: ${defaultHelp}); several processes on one box: 1`)
    .argParser(integerOption('--threads', { min: 1, max: MAX_THREADS }));
}
