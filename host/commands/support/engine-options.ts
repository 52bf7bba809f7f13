// The --engine and --kernels options of the commands that run the model, in
// one place: commander checks the choices (a bad value is a usage error, exit
// 2), and the choices are the engine loader's own (host/load/engine-loader.ts).
import { Option } from 'commander';
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
