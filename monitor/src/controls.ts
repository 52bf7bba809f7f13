// The page's DOM: the header readouts, banners, the side panel's controls and
// the sign-in dialog. No logic beyond showing things and forwarding input.
import type { FrameMessage } from '../../contracts/frame-message.js';
import type { Credentials } from './broker-link.js';
import type { GateChoice, OverlayMode, ViewOptions } from './render.js';
import type { SafetyState } from './freshness.js';
import type { ColormapName } from '../../common/colormap.js';
import { modelWords, parseObject, type DeviceStats, type DeviceStatus } from './device-status.js';
import { deviceLine } from './state-words.js';

export interface ControlActions {
  view(): ViewOptions;
  setView(v: ViewOptions): void;
  signIn(c: Credentials): void;
  signOut(): void;
  command(body: Record<string, unknown>): void;
}

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`monitor page lacks #${id}`);
  return e as T;
};

const NO_OPERATOR = 'No operator account is configured on this box. Whoever runs it adds one with `aunet users add NAME`.';

const BANNER_TITLE = { connecting: 'CONNECTING', stale: 'STALE', offline: 'OFFLINE', updating: 'UPDATING', live: '' } as const;

export class Controls {
  readonly mainCanvas = $<HTMLCanvasElement>('main-canvas');
  readonly probCanvas = $<HTMLCanvasElement>('prob-canvas');
  readonly strip = Array.from(document.querySelectorAll<HTMLCanvasElement>('#strip canvas'));
  #cmdSeq = 0;

  constructor(readonly actions: ControlActions) {
    for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-gate-btn]'))) {
      const auto = b.dataset.gateBtn === 'auto';
      b.addEventListener('click', () =>
        actions.setView(auto ? { ...actions.view(), autoGate: true, overlay: 'attention' } : { ...actions.view(), gate: Number(b.dataset.gateBtn) as GateChoice, autoGate: false, overlay: 'attention' }),
      );
    }
    $<HTMLSelectElement>('overlay').addEventListener('change', (e) => actions.setView({ ...actions.view(), overlay: (e.target as HTMLSelectElement).value as OverlayMode }));
    $<HTMLSelectElement>('colormap').addEventListener('change', (e) => actions.setView({ ...actions.view(), colormap: (e.target as HTMLSelectElement).value as ColormapName }));
    $<HTMLInputElement>('opacity').addEventListener('input', (e) => actions.setView({ ...actions.view(), opacity: Number((e.target as HTMLInputElement).value) / 100 }));
    $<HTMLInputElement>('contour').addEventListener('change', (e) => actions.setView({ ...actions.view(), contour: (e.target as HTMLInputElement).checked }));

    const dialog = $<HTMLDialogElement>('signin-dialog');
    $('signin-open').addEventListener('click', () => {
      $('signin-error').textContent = '';
      dialog.showModal();
    });
    $('signin-cancel').addEventListener('click', () => dialog.close());
    $<HTMLFormElement>('signin-form').addEventListener('submit', () => {
      const username = $<HTMLInputElement>('username').value;
      const password = $<HTMLInputElement>('password').value;
      $<HTMLInputElement>('password').value = '';
      actions.signIn({ username, password });
    });
    $('signout').addEventListener('click', () => actions.signOut());
    $('pause').addEventListener('click', () => this.#send({ cmd: 'pause' }));
    $('resume').addEventListener('click', () => this.#send({ cmd: 'resume' }));
    const th = $<HTMLInputElement>('threshold-input');
    th.addEventListener('input', () => ($('threshold-out').textContent = (Number(th.value) / 100).toFixed(2)));
    $('threshold-send').addEventListener('click', () => this.#send({ cmd: 'threshold', value: Number(th.value) / 100 }));
  }

  #send(body: Record<string, unknown>): void {
    const id = `m${++this.#cmdSeq}`;
    const out = $('cmd-result');
    try {
      this.actions.command({ ...body, id });
      out.className = '';
      out.textContent = `sent ${body.cmd} (${id})…`;
    } catch (e) {
      out.className = 'error';
      out.textContent = (e as Error).message;
    }
  }

  commandReplyPayload(payload: Uint8Array): void {
    const r = parseObject(payload);
    if (r) this.commandReply(r as { id?: string | null; ok?: boolean; error?: string; cmd?: string });
  }

  commandReply(r: { id?: string | null; ok?: boolean; error?: string; cmd?: string }): void {
    if (typeof r.id !== 'string' || !r.id.startsWith('m')) return; // another operator's command
    const out = $('cmd-result');
    out.className = r.ok ? '' : 'error';
    out.textContent = r.ok ? `${r.cmd} applied (${r.id})` : `refused: ${r.error ?? 'unknown error'} (${r.id})`;
  }

  /** Which broker the page is on (host and port), always in view. */
  showBroker(url: string): void {
    let host = url;
    try {
      host = new URL(url).host;
    } catch {
      // shown as given
    }
    $('broker-host').textContent = host;
    $('broker-host').title = `MQTT broker: ${url}`;
  }

  /** The server has no operator account: nobody can sign in until one is added. */
  noOperators(): void {
    document.body.dataset.operators = 'none';
    $('operator-hint').textContent = NO_OPERATOR;
  }

  setSignedIn(user: string | null): void {
    if (user) {
      $<HTMLDialogElement>('signin-dialog').close();
    }
    document.body.dataset.signedIn = user ? 'true' : 'false';
    $('signin-open').hidden = user !== null;
    $('signout').hidden = user === null;
    const who = $('signed-in-as');
    who.hidden = user === null;
    who.textContent = user ? `operator: ${user}` : '';
    for (const id of ['pause', 'resume', 'threshold-input', 'threshold-send']) ($(id) as HTMLButtonElement | HTMLInputElement).disabled = user === null;
    $('operator-hint').textContent = user ? 'Commands go to the device shown.' : document.body.dataset.operators === 'none' ? NO_OPERATOR : 'Sign in to pause the stream or change the threshold.';
  }

  signInFailed(message: string): void {
    $('signin-error').textContent = document.body.dataset.operators === 'none' ? `sign-in refused: ${NO_OPERATOR}` : `sign-in refused: ${message}`;
    const dialog = $<HTMLDialogElement>('signin-dialog');
    if (!dialog.open) dialog.showModal();
  }

  /** A problem the operator should know about (bad URL parameter, rejected message): the last three stay on screen. */
  warn(message: string): void {
    const n = $('warnings');
    const lines = (n.textContent ? n.textContent.split('\n') : []).filter((l) => l !== message);
    n.textContent = [...lines, message].slice(-3).join('\n');
  }

  viewNote(text: string): void {
    $('view-note').textContent = text;
  }

  setView(v: ViewOptions): void {
    document.body.dataset.gate = String(v.gate);
    document.body.dataset.overlay = v.overlay;
    for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-gate-btn]'))) {
      const on = b.dataset.gateBtn === 'auto' ? v.autoGate : !v.autoGate && Number(b.dataset.gateBtn) === v.gate;
      b.setAttribute('aria-pressed', String(on));
    }
    document.body.dataset.autoGate = String(v.autoGate);
    $<HTMLSelectElement>('overlay').value = v.overlay;
    $<HTMLSelectElement>('colormap').value = v.colormap;
    $<HTMLInputElement>('opacity').value = String(Math.round(v.opacity * 100));
    $('opacity-out').textContent = `${Math.round(v.opacity * 100)}%`;
    $<HTMLInputElement>('contour').checked = v.contour;
    $('main-canvas').hidden = v.gate === 0;
    $('strip').hidden = v.gate !== 0;
  }

  /** The device shown, and how many the fleet view lists. */
  setDevice(device: string | null, fleetSize: number): void {
    $('device-name').textContent = device ?? '–';
    $('fleet-link').textContent = `All devices (${fleetSize})`;
  }

  showStatus(st: DeviceStatus | null, stats: DeviceStats | null): void {
    $('device-state').textContent = st ? deviceLine(st, stats) : '–';
    const model = modelWords(st);
    $('model').textContent = model ? `${model}${st?.engine ? ` on the ${st.engine} engine` : ''}` : '–';
    $('source').textContent = st?.source?.spec ?? '–';
    // the firmware the box runs (tests read data-firmware); none for `aunet run` on a workstation
    const fw = st?.firmware ?? null;
    $('firmware').textContent = fw?.version ? `${fw.version}${fw.state === 'trial' ? ' (on trial)' : ''}` : '–';
    document.body.dataset.firmware = fw?.version ?? '';
    if (typeof st?.threshold === 'number') $('threshold').textContent = st.threshold.toFixed(3);
  }

  /** The state on screen (freshness.ts decided it) and the line that explains it. */
  showSafety(state: SafetyState, reason: string, frozen: boolean, frozenReason: string): void {
    const body = document.body;
    if (body.dataset.state !== state) body.dataset.state = state;
    body.dataset.frozen = String(frozen);
    $('state-badge').textContent = state.toUpperCase();
    // the tab title too, for a monitor left in a background tab or another window
    document.title = `${state === 'live' ? (frozen ? '[FROZEN] ' : '') : `[${state.toUpperCase()}] `}aunet monitor`;
    $('banner').hidden = state === 'live';
    $('banner-title').textContent = BANNER_TITLE[state];
    $('banner-reason').textContent = reason;
    $('frozen-banner').hidden = !frozen;
    $('frozen-reason').textContent = frozen ? `${frozenReason}: the source may be stuck` : '';
  }

  showFrame(m: FrameMessage, c: { received: number; drawn: number; latencyMs: number | null; offsetMs: number | null }): void {
    $('frame-id').textContent = String(m.frameId);
    // The box draws no outline on a frame its model decided "no lesion" (docs/mqtt.md); say so in words,
    // so an empty picture reads as an answer, not as a missing one. A box from before the decision: a dash.
    const d = $('decision');
    d.textContent = m.decision ? (m.decision.lesion ? 'lesion' : 'no lesion detected') : '–';
    d.dataset.lesion = String(m.decision?.lesion ?? false);
    d.title = m.decision ? `lesion-present score ${m.decision.score.toFixed(3)}, threshold ${m.decision.threshold.toFixed(3)}` : 'this box publishes no lesion-present decision';
    $('area').textContent = `${(m.lesionArea * 100).toFixed(1)} %`;
    $('confidence').textContent = m.lesionArea > 0 ? m.meanConfidence.toFixed(2) : '–';
    $('threshold').textContent = (m.threshold / 256).toFixed(3);
    const lat = $('latency');
    if (c.latencyMs !== null) {
      // the level in words as well as in colour
      const level = c.latencyMs < 150 ? 'ok' : c.latencyMs < 400 ? 'warn' : 'bad';
      lat.textContent = `latency ${Math.round(c.latencyMs)} ms${level === 'ok' ? '' : level === 'warn' ? ' (high)' : ' (too high)'}`;
      lat.className = `badge latency device-only ${level}`;
      lat.title = `capture to display, median of the last 30 frames; clock offset (page - device) estimated ${c.offsetMs?.toFixed(1)} ms from the fastest message of the last 10 s`;
    }
  }

  showCounts(c: { received: number; drawn: number }, fps: number): void {
    $('fps').textContent = String(fps);
    $('counts').textContent = `${c.received} / ${c.drawn}`;
  }
}
