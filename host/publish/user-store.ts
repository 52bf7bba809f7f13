// Operator accounts: a local JSON file of salted scrypt hashes (node:crypto,
// i.e. OpenSSL's scrypt), never plain passwords, never part of a config file or
// a firmware image. Managed by `aunet users add|remove|list --store FILE`; read
// by the embedded broker at every sign-in (re-read when the file changes, so an
// account added while the live service runs works at once). Format: docs/security.md.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AunetError, FileError, UsageError } from '../../common/errors.js';
import { formatIssues } from '../../common/schema-issues.js';
import { SERVICE_USERNAME } from '../../contracts/run-config.js';

/** scrypt cost: N = 2^15, r = 8 (32 MiB, about 0.1-0.2 s per check on the box's class of CPU). Stored per hash, so it can rise later. */
export const SCRYPT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** at most this many scrypt checks at once: each takes 32 MiB and a thread of libuv's pool */
const PARALLEL_CHECKS = 2;

export const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
export const MIN_PASSWORD_CHARS = 8;

const Hash = z.strictObject({
  N: z.number().int().min(2 ** 10).max(2 ** 20),
  r: z.number().int().min(1).max(32),
  p: z.number().int().min(1).max(16),
  salt: z.base64(),
  hash: z.base64(),
});
const StoreSchema = z.strictObject({
  format: z.literal('aunet-users'),
  version: z.literal(1),
  users: z.array(z.strictObject({ username: z.string().regex(USERNAME), scrypt: Hash, created: z.string() })),
});
type StoreFile = z.infer<typeof StoreSchema>;

/** The default store of `aunet run` and `aunet users` on a workstation: $AUNET_USER_STORE, else ~/.config/aunet/users.json. */
export function defaultUserStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.AUNET_USER_STORE || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'aunet', 'users.json');
}

/** A random password for a new account (24 characters of base64url, 144 bits). */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

let running = 0;
const queue: (() => void)[] = [];
async function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  if (running >= PARALLEL_CHECKS) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    const opts: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r * cost.p + (1 << 20) };
    return await new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, KEY_BYTES, opts, (e, k) => (e ? reject(e) : resolve(k))));
  } finally {
    running--;
    queue.shift()?.();
  }
}

export class UserStore {
  #cache: { stamp: string; data: StoreFile } | null = null;

  constructor(readonly file: string) {}

  /** Whether the file exists (a first start creates it). */
  get exists(): boolean {
    return existsSync(this.file);
  }

  list(): { username: string; created: string }[] {
    return this.#read().users.map(({ username, created }) => ({ username, created }));
  }

  hasOperators(): boolean {
    return this.#read().users.length > 0;
  }

  /** Add an account (or, with replace, set a new password for an existing one). */
  async add(username: string, password: string, replace = false): Promise<void> {
    checkUsername(username);
    if (password.length < MIN_PASSWORD_CHARS) throw new UsageError(`the password must have at least ${MIN_PASSWORD_CHARS} characters`);
    const data = this.#read();
    const at = data.users.findIndex((u) => u.username === username);
    if (at >= 0 && !replace) throw new AunetError('EXISTS', `${this.file}: operator '${username}' exists; pass --force to set a new password`);
    const salt = randomBytes(SALT_BYTES);
    const hash = await derive(password, salt, SCRYPT_COST);
    const entry = { username, scrypt: { ...SCRYPT_COST, salt: salt.toString('base64'), hash: hash.toString('base64') }, created: new Date().toISOString() };
    if (at >= 0) data.users[at] = entry;
    else data.users.push(entry);
    this.#write(data);
  }

  /** Remove an account; false if there was none of that name. */
  remove(username: string): boolean {
    const data = this.#read();
    const users = data.users.filter((u) => u.username !== username);
    if (users.length === data.users.length) return false;
    this.#write({ ...data, users });
    return true;
  }

  /** Check a password. An unknown user costs the same scrypt work as a known one. */
  async verify(username: string, password: Buffer | string): Promise<boolean> {
    const user = this.#read().users.find((u) => u.username === username);
    const h = user?.scrypt ?? DUMMY;
    const expected = Buffer.from(h.hash, 'base64');
    const got = await derive(Buffer.isBuffer(password) ? password.toString('utf8') : password, Buffer.from(h.salt, 'base64'), h);
    return user !== undefined && got.length === expected.length && timingSafeEqual(got, expected);
  }

  #read(): StoreFile {
    let stamp: string;
    try {
      const st = statSync(this.file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      return { format: 'aunet-users', version: 1, users: [] };
    }
    if (this.#cache?.stamp === stamp) return structuredClone(this.#cache.data);
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (e) {
      throw new FileError(this.file, `operator store is not readable JSON: ${(e as Error).message}`);
    }
    const r = StoreSchema.safeParse(value);
    if (!r.success) throw new FileError(this.file, `not an operator store (docs/security.md): ${formatIssues(r.error.issues)}`);
    this.#cache = { stamp, data: r.data };
    return structuredClone(r.data);
  }

  /** Replace the file atomically, readable by its owner only. */
  #write(data: StoreFile): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.file);
    } catch (e) {
      throw new FileError(this.file, `cannot write the operator store: ${(e as Error).message}`, 'WRITE_FAILED');
    }
    this.#cache = null;
  }
}

function checkUsername(username: string): void {
  if (!USERNAME.test(username)) throw new UsageError(`operator name '${username}': 1 to 64 characters of A-Z a-z 0-9 . _ @ -`);
  if (username === SERVICE_USERNAME) throw new UsageError(`'${SERVICE_USERNAME}' is reserved for the live service itself`);
}

// compared against when the user does not exist, so timing does not tell which names exist
const DUMMY = { ...SCRYPT_COST, salt: randomBytes(SALT_BYTES).toString('base64'), hash: randomBytes(KEY_BYTES).toString('base64') };

/** The account a first start creates (the quick start must leave someone able to sign in). */
export const FIRST_OPERATOR = 'operator';

/**
 * On a first start (no store file yet) create FIRST_OPERATOR with a random
 * password and return it, for the caller to show once to the person starting
 * the service; null when the store exists (even empty: no operator on purpose).
 */
export async function createFirstOperator(store: UserStore): Promise<BrokerCredentials | null> {
  if (store.exists) return null;
  const password = randomPassword();
  await store.add(FIRST_OPERATOR, password);
  return { username: FIRST_OPERATOR, password };
}

export interface BrokerCredentials {
  username: string;
  password: string;
}
