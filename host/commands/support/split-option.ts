// The `--split` flags of the dataset commands, from the one list of splits (models/datasets/split.ts),
// refused by commander's choices like --engine: one usage error, naming the flag and the splits.
import { Option } from 'commander';
import { SPLITS } from '../../../models/datasets/split.js';

/** `--split`-style flag; `all` adds the whole folder as a choice. */
export function splitOption(flags: string, help: string, o: { all?: boolean; default?: string } = {}): Option {
  const opt = new Option(flags, help).choices(o.all ? [...SPLITS, 'all'] : SPLITS);
  return o.default === undefined ? opt : opt.default(o.default);
}
