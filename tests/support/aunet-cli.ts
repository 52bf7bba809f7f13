// The real `aunet` CLI as a child process, the one way the tests run it:
// runAunet for a command that ends, startAunet for one that serves (aunet run,
// aunet monitor) and is watched through its output.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT, packageFile } from '../../common/package-root.js';

export const CLI = packageFile('bin/aunet.js');

/**
 * The operator store the CLI uses unless a test names one: a scratch file per
 * test process, so no test writes into the home folder of the machine; removed
 * when the test process ends.
 */
const userStore = join(tmpdir(), `aunet-test-users-${process.pid}.json`);
process.once('exit', () => rmSync(userStore, { force: true }));
const childEnv = (env: Record<string, string> = {}) => ({ AUNET_USER_STORE: userStore, ...process.env, ...env });

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `aunet ARGS` to its end (killed after `timeoutMs`, default 5 min). */
export function runAunet(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: PACKAGE_ROOT, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface AunetChild {
  child: ChildProcessWithoutNullStreams;
  /** the exit code (null when killed by a signal) */
  exit: Promise<number | null>;
  out(): string;
  err(): string;
  /** the first match of `re` in stdout; throws with both outputs after `ms` or when the process ends first */
  waitFor(re: RegExp, ms: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL if it has not ended within 5 s */
  stop(): Promise<void>;
}

/** Start `aunet ARGS` and keep it running (`env` adds to the environment). */
export function startAunet(args: string[], opts: { env?: Record<string, string> } = {}): AunetChild {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: PACKAGE_ROOT, env: childEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    exit,
    out: () => out,
    err: () => err,
    async waitFor(re, ms) {
      const end = Date.now() + ms;
      for (;;) {
        const m = re.exec(out);
        if (m) return m;
        if (Date.now() > end || !running()) throw new Error(`aunet ${args[0]}: no ${re} in its output after ${ms} ms:\n${out}\n${err.slice(-2000)}`);
        await sleep(50);
      }
    },
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
