import type { Command } from 'commander';
import { generateKeys } from '../../firmware/keys.js';

export function register(program: Command): void {
  const keys = program.command('keys').description('Ed25519 signing keys for firmware images');
  keys
    .command('generate')
    .description('write DIR/private.pem and DIR/public.pem (never overwrites a key)')
    .requiredOption('--out <dir>', 'folder for the key pair')
    .action((o: { out: string }) => {
      const { privatePath, publicPath } = generateKeys(o.out);
      process.stdout.write(`private key: ${privatePath} (keep it secret)\npublic key:  ${publicPath} (install on boxes)\n`);
    });
}
