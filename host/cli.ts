// The aunet command line. Every command lives in host/commands/<file>.ts and is
// imported only when invoked, so `aunet --help` and each command start fast.
// A command module exports `register(program: Command): void` that declares
// the command (and its subcommands) with commander.
import { Command, CommanderError } from 'commander';
import { AunetError, ERROR_CODES, EXIT_INTERNAL, resourceError, UsageError } from '../common/errors.js';
import { packageVersion } from '../common/package-root.js';

const COMMANDS: Record<string, { file: string; summary: string }> = {
  run: { file: 'run', summary: 'stream frames through the model and publish over MQTT (the main job)' },
  monitor: { file: 'monitor', summary: 'serve the attention monitor (fleet and device views) for a broker' },
  fleet: { file: 'fleet', summary: 'record frame messages of a box and replay them as a simulated fleet' },
  bench: { file: 'bench', summary: 'benchmark the int8 engines and kernel builds' },
  chip: { file: 'chip', summary: 'compile the network for a chip model and report cycles, memory and traffic' },
  infer: { file: 'infer', summary: 'run one image and write mask, probability and attention PNGs' },
  explain: { file: 'explain', summary: 'occlusion sensitivity and encoder activations as PNG heatmaps' },
  inspect: { file: 'inspect', summary: 'describe a .aunet model or a .aufw firmware image' },
  quantize: { file: 'quantize', summary: 'quantize an ONNX or Keras model to .aunet' },
  export: { file: 'export', summary: 'export a model as ONNX' },
  compare: { file: 'compare', summary: 'compare an int8 model with its float source' },
  eval: { file: 'eval', summary: "evaluate a model on a BUSI-layout dataset with the study's metrics" },
  dataset: { file: 'dataset', summary: 'leak-free splits and preprocessed model inputs for training' },
  decision: { file: 'decision', summary: 'calibrate the lesion-present decision of a model' },
  record: { file: 'record', summary: 'record a frame source losslessly' },
  replay: { file: 'replay', summary: 'replay a source through the model, with golden checks and reports' },
  probe: { file: 'probe', summary: 'count and hash the frames of a source' },
  users: { file: 'users', summary: 'add, remove and list the operator accounts of the embedded broker' },
  keys: { file: 'keys', summary: 'generate Ed25519 signing keys' },
  firmware: { file: 'firmware', summary: 'build and verify signed firmware images' },
  flash: { file: 'flash', summary: 'flash a firmware image over a serial port' },
  device: { file: 'device', summary: 'device agent and device info over a serial port' },
};

let program: Command | undefined;

async function main(argv: string[]): Promise<void> {
  program = new Command('aunet')
    .description('aunet-edge: int8 Attention U-Net for breast ultrasound at the edge')
    // commander's own parse errors (unknown option, missing argument, bad choice) come back
    // as a CommanderError instead of exiting, and are reported once, by exitStatus below
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  const name = argv[2];
  const entry = name ? COMMANDS[name] : undefined;
  // Only at the top level: `aunet firmware build --version 1.2.3` means the image's version.
  if (!entry) program.version(packageVersion(), '-V, --version');
  if (entry) {
    const mod = (await import(`./commands/${entry.file}.ts`)) as { register(p: Command): void };
    mod.register(program);
  } else {
    for (const [cmd, { summary }] of Object.entries(COMMANDS)) program.command(cmd).description(summary);
  }
  await program.parseAsync(argv);
}

/** The command a usage error is about, as typed: "aunet replay", "aunet firmware build", "aunet". */
function commandPath(argv: string[]): string {
  const names = ['aunet'];
  let cmd = program;
  for (const word of argv.slice(2)) {
    const sub = cmd?.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    names.push(word);
    cmd = sub;
  }
  return names.join(' ');
}

/**
 * Commander's parse errors as UsageErrors in the one style: the problem, the
 * flag or argument it is about, and a one-line hint (never the whole help).
 */
function usageFromCommander(err: CommanderError, cmd: string): UsageError {
  const [first, ...rest] = err.message.replace(/^error: /, '').split('\n');
  const quoted = /'([^']*)'/.exec(first)?.[1];
  const suggestion = rest.join(' ').replace(/^\((.*)\)$/, '$1').trim();
  const help = err.code === 'commander.unknownCommand' ? '`aunet --help` lists the commands' : `\`${cmd} --help\` lists its options`;
  const hint = suggestion ? `${suggestion.replace(/^Did/, 'did')} ${help}` : help;
  const problems: Record<string, string> = {
    'commander.unknownOption': 'unknown option',
    'commander.unknownCommand': 'unknown command',
    'commander.missingArgument': 'missing argument',
    'commander.optionMissingArgument': 'option given without its value',
    'commander.missingMandatoryOptionValue': 'required option not given',
  };
  const known = problems[err.code];
  let problem = known ?? (quoted ? first.replace(`'${quoted}'`, '').replace(/\s+/g, ' ').trim() : first);
  if (err.code === 'commander.excessArguments') problem = `too many arguments (${first.replace(/^.*?'\.\s*/, '').replace(/\.$/, '').toLowerCase()})`;
  if (err.code === 'commander.invalidArgument') problem = first.replace(`option '${quoted}' `, '').replace(/\. Allowed choices are /, '; choose one of ').replace(/\.$/, '');
  const subject = err.code === 'commander.missingArgument' && quoted ? `<${quoted}>` : err.code === 'commander.excessArguments' ? cmd : (quoted ?? cmd);
  return new UsageError(problem, err.code === 'commander.unknownCommand' ? 'UNKNOWN_COMMAND' : 'USAGE', { subject, hint });
}

/**
 * Report an error on stderr and return the exit status: an AunetError's from
 * the ERROR_CODES table (bad input 1, bad usage 2) as one line,
 * `aunet: <problem> (<file or flag>): <what to do>`; commander's parse errors
 * as the USAGE row; a full disk or exhausted memory as such (exit 1); anything
 * else is internal (70, please report).
 */
function exitStatus(err: unknown, argv: string[]): number {
  const cmd = commandPath(argv);
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0; // --help, --version
    // 'commander.help': a command that needs a subcommand was given none; its help is printed already
    if (err.code === 'commander.help') return ERROR_CODES.USAGE[0];
    err = usageFromCommander(err, cmd);
  }
  const known = err instanceof AunetError ? err : resourceError(err);
  if (known) {
    const usage = known.code === 'USAGE' && !known.hint ? `see \`${cmd} --help\`` : known.remedy;
    process.stderr.write(`aunet: ${known.problem}${known.subject ? ` (${known.subject})` : ''}: ${usage}\n`);
    return known.exitCode;
  }
  process.stderr.write(`aunet: internal error: ${err instanceof Error ? err.stack : String(err)}\nPlease report this with the command you ran.\n`);
  return EXIT_INTERNAL;
}

main(process.argv).catch((err: unknown) => {
  process.exitCode = exitStatus(err, process.argv);
});
