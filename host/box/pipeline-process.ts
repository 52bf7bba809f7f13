// One run of the pipeline child process (host/box/pipeline-main.ts): forked
// with an IPC channel, watched by a heartbeat watchdog (a runaway native call
// or a stuck loop stops the beats: the child is killed and counts as a crash),
// stopped cleanly on request (it publishes `stopped`), SIGKILLed when it does
// not stop in time. Why it ended is kept for the log and `aunet device info`.
// The launcher keeps one spare child forked ahead, its code already loaded
// and waiting for its start message, so a restart does not wait for Node and
// the modules to load (about 1.5 s of a restart on the reference box).
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { PIPELINE_EXIT, type FromPipeline, type ToPipeline } from './pipeline-ipc.js';

export interface PipelineExit {
  code: number | null;
  signal: string | null;
  /** in words: the child's own error, a failed self-test, a watchdog kill, or the signal */
  reason: string;
  /** the agent asked for it */
  requested: boolean;
  at: number;
}

export interface PipelineEvents {
  'self-test': [{ ok: boolean; detail: string }];
  ready: [{ model: { name: string; sha256: string } }];
  heartbeat: [{ state: string }];
  exit: [PipelineExit];
}

export interface PipelineHandle extends EventEmitter<PipelineEvents> {
  readonly pid: number | undefined;
  send(m: ToPipeline): void;
  /** ask the child to stop (it publishes `stopped`); SIGKILL after timeoutMs */
  stop(timeoutMs: number): Promise<PipelineExit>;
}

export type PipelineStart = Extract<ToPipeline, { type: 'start' }>;

export interface PipelineLauncher {
  launch(start: PipelineStart, watchdogMs: number): PipelineHandle;
  /** fork the spare for the next launch now (the box calls it once a pipeline runs: nothing else is starting) */
  prepare(): void;
  close(): void;
}

const MAIN = fileURLToPath(new URL('./pipeline-main.ts', import.meta.url));
/** tsx in the child, as bin/aunet.js registers it in the agent (absolute: the agent's working folder does not matter) */
const TSX = import.meta.resolve('tsx');

class PipelineProcess extends EventEmitter<PipelineEvents> implements PipelineHandle {
  readonly #child: ChildProcess;
  #lastBeat = Date.now();
  #watchdog: NodeJS.Timeout;
  #failure: string | null = null;
  #requested = false;
  #exited: Promise<PipelineExit>;

  constructor(child: ChildProcess, start: PipelineStart, watchdogMs: number) {
    super();
    this.#child = child;
    this.#child.on('message', (m: FromPipeline) => this.#onMessage(m));
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        clearInterval(this.#watchdog);
        const exit: PipelineExit = { code, signal, reason: this.#reason(code, signal), requested: this.#requested, at: Date.now() };
        resolve(exit);
        this.emit('exit', exit);
      });
    });
    this.#watchdog = setInterval(() => {
      if (Date.now() - this.#lastBeat > watchdogMs) {
        this.#failure = `no heartbeat for ${watchdogMs} ms (hung); killed by the watchdog`;
        this.#child.kill('SIGKILL');
      }
    }, Math.min(1000, watchdogMs / 4));
    this.#child.send(start);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  send(m: ToPipeline): void {
    if (this.#child.connected) this.#child.send(m);
  }

  async stop(timeoutMs: number): Promise<PipelineExit> {
    this.#requested = true;
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.send({ type: 'stop' });
      const t = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
      const exit = await this.#exited;
      clearTimeout(t);
      return exit;
    }
    return this.#exited;
  }

  #onMessage(m: FromPipeline): void {
    this.#lastBeat = Date.now();
    switch (m.type) {
      case 'heartbeat':
        this.emit('heartbeat', { state: m.state });
        break;
      case 'self-test':
        if (!m.ok) this.#failure = `self-test failed: ${m.detail}`;
        this.emit('self-test', { ok: m.ok, detail: m.detail });
        break;
      case 'ready':
        this.emit('ready', { model: m.model });
        break;
      case 'failed':
        this.#failure = m.code ? `${m.code}: ${m.message}` : m.message;
        break;
    }
  }

  #reason(code: number | null, signal: string | null): string {
    if (this.#failure) return this.#failure;
    if (signal) return `killed by ${signal}${signal === 'SIGABRT' ? ' (out of memory?)' : ''}`;
    if (code === 0) return 'stopped';
    if (code === PIPELINE_EXIT.NO_AGENT) return 'the agent went away';
    return `exited with status ${code}`;
  }
}

const forkPipeline = (): ChildProcess => fork(MAIN, [], { execArgv: ['--import', TSX], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });

export class ForkLauncher implements PipelineLauncher {
  #spare: ChildProcess | null = null;

  launch(start: PipelineStart, watchdogMs: number): PipelineHandle {
    const spare = this.#spare;
    this.#spare = null;
    const child = spare && spare.connected && spare.exitCode === null && spare.signalCode === null ? spare : forkPipeline();
    if (child !== spare) spare?.kill('SIGKILL');
    return new PipelineProcess(child, start, watchdogMs);
  }

  prepare(): void {
    if (this.#spare?.connected) return;
    this.#spare = forkPipeline();
    // a spare that dies idle is simply not used
    this.#spare.on('error', () => {});
  }

  close(): void {
    this.#spare?.kill('SIGKILL');
    this.#spare = null;
  }
}
