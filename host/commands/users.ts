// `aunet users add|remove|list`: the operator accounts the embedded broker checks
// sign-ins against (host/publish/user-store.ts; docs/security.md). The store is
// a file: the workstation default, or the one the box's agent uses (--store).
// A new password is generated and printed once, or read from standard input
// (--password-stdin): never a flag, which every user of the machine sees in ps.
import type { Command } from 'commander';
import { AunetError } from '../../common/errors.js';
import { UserStore, defaultUserStorePath, randomPassword } from '../publish/user-store.js';

interface StoreOpts {
  store?: string;
}

const storeOption = `operator store file (default $AUNET_USER_STORE, else ~/.config/aunet/users.json)`;

export function register(program: Command): void {
  const users = program.command('users').description('operator accounts of the embedded broker (who may send commands from the monitor)');
  const open = (o: StoreOpts) => new UserStore(o.store ?? defaultUserStorePath());
  users
    .command('add <name>')
    .description('add an operator; prints a new random password once, or reads one line from stdin with --password-stdin')
    .option('--store <file>', storeOption)
    .option('--password-stdin', 'read the password (first line, at least 8 characters) from standard input')
    .option('--force', 'set a new password for an existing operator')
    .action(async (name: string, o: StoreOpts & { passwordStdin?: boolean; force?: boolean }) => {
      const store = open(o);
      const password = o.passwordStdin ? await firstLine(process.stdin) : randomPassword();
      await store.add(name, password, o.force === true);
      process.stdout.write(`operator ${name} ${o.force ? 'updated' : 'added'} in ${store.file}\n`);
      if (!o.passwordStdin) process.stdout.write(`password: ${password}\n(shown this once; only a salted hash is stored)\n`);
    });
  users
    .command('remove <name>')
    .description('remove an operator (signed-in sessions end at their next sign-in)')
    .option('--store <file>', storeOption)
    .action((name: string, o: StoreOpts) => {
      const store = open(o);
      if (!store.remove(name)) throw new AunetError('NO_USER', `${store.file}: no operator '${name}' (aunet users list)`);
      process.stdout.write(`operator ${name} removed from ${store.file}\n`);
    });
  users
    .command('list')
    .description('list the operators (names and creation dates; passwords are never shown)')
    .option('--store <file>', storeOption)
    .action((o: StoreOpts) => {
      const store = open(o);
      const list = store.list();
      if (list.length === 0) process.stdout.write(`no operators in ${store.file}${store.exists ? '' : ' (no store yet)'}\n`);
      for (const u of list) process.stdout.write(`${u.username}\t${u.created}\n`);
    });
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.includes('\n') || text.length > 4096) break;
  }
  return text.split(/\r?\n/, 1)[0];
}
