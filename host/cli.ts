// The aunet command line. Every command lives in host/commands/<file>.ts and is
// imported only when invoked, so `aunet --help` and each command start fast.
// A command module exports `register(program: Command): void` that declares
// the command (and its subcommands) with commander.
import { Command } from 'commander';
import { AunetError } from '../common/errors.js';

const COMMANDS: Record<string, { file: string; summary: string }> = {
  run: { file: 'run', summary: 'stream frames through the model and publish over MQTT (the main job)' },
  monitor: { file: 'monitor', summary: 'serve the attention monitor for a broker' },
  bench: { file: 'bench', summary: 'benchmark the int8 runtime' },
  chip: { file: 'chip', summary: 'compile the network for a chip model and report cycles, memory and traffic' },
  infer: { file: 'infer', summary: 'run one image and write mask, probability and attention PNGs' },
  explain: { file: 'explain', summary: 'occlusion sensitivity and encoder activations as PNG heatmaps' },
  inspect: { file: 'inspect', summary: 'describe a .aunet model or a .aufw firmware image' },
  quantize: { file: 'quantize', summary: 'quantize an ONNX or Keras model to .aunet' },
  export: { file: 'export', summary: 'export a model as ONNX' },
  compare: { file: 'compare', summary: 'compare an int8 model with its float source' },
  eval: { file: 'eval', summary: "evaluate a model on a BUSI-layout dataset with the study's metrics" },
  dataset: { file: 'dataset', summary: 'export preprocessed model inputs for training' },
  record: { file: 'record', summary: 'record a frame source losslessly' },
  replay: { file: 'replay', summary: 'replay a source through the model, with golden checks and reports' },
  probe: { file: 'probe', summary: 'count and hash the frames of a source' },
  keys: { file: 'keys', summary: 'generate Ed25519 signing keys' },
  firmware: { file: 'firmware', summary: 'build and verify signed firmware images' },
  flash: { file: 'flash', summary: 'flash a firmware image over a serial port' },
  device: { file: 'device', summary: 'device agent and device info over a serial port' },
};

async function main(argv: string[]): Promise<void> {
  const program = new Command('aunet')
    .description('aunet-edge: int8 Attention U-Net for breast ultrasound at the edge')
    .showHelpAfterError();
  const name = argv[2];
  const entry = name ? COMMANDS[name] : undefined;
  // Only at the top level: `aunet firmware build --version 1.2.3` means the image's version.
  if (!entry) program.version(await version(), '-V, --version');
  if (entry) {
    const mod = (await import(`./commands/${entry.file}.ts`)) as { register(p: Command): void };
    mod.register(program);
  } else {
    for (const [cmd, { summary }] of Object.entries(COMMANDS)) program.command(cmd).description(summary);
  }
  await program.parseAsync(argv);
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

main(process.argv).catch((err: unknown) => {
  if (err instanceof AunetError) {
    process.stderr.write(`aunet: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`aunet: internal error: ${err instanceof Error ? err.stack : String(err)}\nPlease report this with the command you ran.\n`);
    process.exitCode = 70;
  }
});
