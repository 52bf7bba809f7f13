// Shared by the camera tests: data paths and temp folders.
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

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `aunet-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
