// Shared by the camera tests: data paths, temp folders, running the real CLI.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../common/package-root.js';

export const ROOT = PACKAGE_ROOT;
export const DATA = resolve(ROOT, '../shared/data');
export const CLIP = join(DATA, 'clips/sonosite-anon-eye1-video.mp4');
export const YBR = join(DATA, 'dicom/examples_ybr_color.dcm');
export const US1 = join(DATA, 'dicom/US1_UNCR.dcm');
export const BUSI = join(DATA, 'busi');
export const CLI = join(ROOT, 'bin/aunet.js');

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `aunet-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `aunet ARGS` as a real child process. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
