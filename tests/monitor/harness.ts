// Shared by the monitor's browser tests and benchmark: the real live service
// as a child process (`aunet run`, embedded broker), real Chromium
// through playwright-core, and pixel read-back from the page's canvases.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MonitorCounters } from '../../monitor/src/main.js';
import { startAunet, type AunetChild } from '../support/aunet-cli.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
export const ARTIFACTS = 'test-artifacts/monitor';

/** Build monitor/dist/ from the current sources (about half a second). */
export function buildMonitor(): void {
  const r = spawnSync(process.execPath, ['monitor/build.js'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`monitor/build.js failed:\n${r.stdout}\n${r.stderr}`);
  mkdirSync(ARTIFACTS, { recursive: true });
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface RunningService extends AunetChild {
  /** embedded broker only (empty strings / 0 with an external broker) */
  monitorUrl: string;
  port: number;
  httpPort: number;
}

/**
 * The live service (`aunet run`), with the embedded broker on `ports` (0 = any
 * free port), or with `external` an external broker given in `args` (--broker
 * ...). Resolves once it is serving.
 */
export async function startLiveService(args: string[], ports: { port: number; httpPort: number } | 'external' = { port: 0, httpPort: 0 }): Promise<RunningService> {
  const portArgs = ports === 'external' ? [] : ['--port', String(ports.port), '--http-port', String(ports.httpPort)];
  const service = startAunet(['run', ...portArgs, '--log-level', 'warn', ...args]);
  try {
    if (ports === 'external') {
      await service.waitFor(/Ctrl-C to stop/, 60_000);
      return { ...service, monitorUrl: '', port: 0, httpPort: 0 };
    }
    const mq = await service.waitFor(/MQTT: mqtt:\/\/127\.0\.0\.1:(\d+) {2}WebSocket: ws:\/\/127\.0\.0\.1:(\d+)\/mqtt/, 60_000);
    const mon = await service.waitFor(/Monitor: (http:\/\/127\.0\.0\.1:\d+\/)/, 5000);
    return { ...service, monitorUrl: mon[1], port: Number(mq[1]), httpPort: Number(mq[2]) };
  } catch (e) {
    service.child.kill('SIGKILL');
    throw e;
  }
}

/** `aunet monitor --broker URL`: the page served on its own for a broker elsewhere. */
export async function startMonitorServer(broker: string, device: string, port = 0): Promise<{ url: string; stop(): Promise<void> }> {
  const monitor = startAunet(['monitor', '--broker', broker, '--port', String(port), '--device', device]);
  try {
    const m = await monitor.waitFor(/Monitor: (http:\/\/127\.0\.0\.1:\d+\/)/, 30_000);
    return { url: m[1], stop: () => monitor.stop() };
  } catch (e) {
    monitor.child.kill('SIGKILL');
    throw e;
  }
}

/** What the page exposes as window.aunetMonitor.counters. */
export type PageCounters = MonitorCounters;

export function counters(page: Page): Promise<PageCounters> {
  return page.evaluate(() => (window as unknown as { aunetMonitor: { counters: PageCounters } }).aunetMonitor.counters);
}

/** Wait until the page's safety state is `state` (document.body.dataset.state). */
export async function waitState(page: Page, state: string, ms: number): Promise<void> {
  try {
    await page.waitForFunction((s) => document.body.dataset.state === s, state, { timeout: ms, polling: 50 });
  } catch {
    const c = await counters(page).catch(() => null);
    throw new Error(`page state is not '${state}' after ${ms} ms: ${JSON.stringify(c?.state)}; transitions ${JSON.stringify(c?.transitions)}`);
  }
}

/** Let the page run two animation frames (a redraw after a key press lands on screen). */
export function settle(page: Page): Promise<void> {
  return page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
}

/** RGBA pixels of a canvas, scaled down in the page to at most `maxWidth` wide (the transfer stays small). */
export interface Pixels {
  width: number;
  height: number;
  data: number[];
}

export function readCanvas(page: Page, selector: string, maxWidth = 192): Promise<Pixels> {
  return page.evaluate(
    ([sel, max]) => {
      const c = document.querySelector(sel) as HTMLCanvasElement;
      const k = Math.min(1, max / c.width);
      const t = document.createElement('canvas');
      t.width = Math.max(1, Math.round(c.width * k));
      t.height = Math.max(1, Math.round(c.height * k));
      const ctx = t.getContext('2d')!;
      ctx.drawImage(c, 0, 0, t.width, t.height);
      const d = ctx.getImageData(0, 0, t.width, t.height);
      return { width: d.width, height: d.height, data: Array.from(d.data) };
    },
    [selector, maxWidth] as const,
  );
}

export interface PixelMeasures {
  /** fraction of pixels that are not (near) black: picture drawn */
  nonBlack: number;
  /** standard deviation of brightness over the non-black pixels: a picture, not a flat fill */
  greyStd: number;
  /** fraction of clearly coloured pixels (channel spread > 40): heatmap or outline */
  coloured: number;
  /** fraction of pixels in the outline's green (#39ff14) */
  green: number;
}

/** Measure a canvas at full resolution, in the page. */
export function measureCanvas(page: Page, selector: string): Promise<PixelMeasures> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let nonBlack = 0;
    let coloured = 0;
    let green = 0;
    let sum = 0;
    let sum2 = 0;
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i];
      const g = d[i + 1];
      const b = d[i + 2];
      if (r + g + b > 24) {
        nonBlack++;
        const y = (r + g + b) / 3;
        sum += y;
        sum2 += y * y;
      }
      if (Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++;
      if (g > 200 && r < 120 && b < 100) green++;
    }
    const total = d.length / 4;
    const mean = nonBlack ? sum / nonBlack : 0;
    return { nonBlack: nonBlack / total, greyStd: nonBlack ? Math.sqrt(Math.max(0, sum2 / nonBlack - mean * mean)) : 0, coloured: coloured / total, green: green / total };
  }, selector);
}

/** Mean absolute difference per colour value between two same-size pixel buffers. */
export function meanAbsDiff(a: Pixels, b: Pixels): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`canvas sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) if ((i & 3) !== 3) s += Math.abs(a.data[i] - b.data[i]);
  return s / ((a.data.length / 4) * 3);
}
