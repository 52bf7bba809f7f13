// The pipeline child process the box agent supervises (host/box/pipeline-process.ts
// forks it): runs the live service from a firmware image's own sections — its
// runtime build, its model, the configuration the agent composed — after the
// self-test with that same runtime build and model. A crash, an out-of-memory
// abort or a runaway kernel here ends this process only; the agent, its
// broker and the monitor's page stay up. It exits when the agent goes (the IPC
// channel closes), so a pipeline never outlives its agent.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { AunetError } from '../../common/errors.js';
import { parseImage, section, sha256 } from '../../firmware/image.js';
import { defaultThreads } from '../../common/thread-count.js';
import { modelFromBytes } from '../load/model-loader.js';
import { LiveService } from './live-service.js';
import { boxLog } from './box-log.js';
import { imageSelfTest } from './self-test.js';
import { PIPELINE_EXIT, type FromPipeline, type ToPipeline } from './pipeline-ipc.js';

const send = (m: FromPipeline): void => {
  if (process.connected) process.send!(m);
};

let service: LiveService | null = null;
let log: Logger | null = null;

async function exit(code: number): Promise<never> {
  await service?.stop().catch(() => {});
  // flush the log's last lines before the process ends
  log?.flush();
  process.exit(code);
}

async function fail(e: unknown): Promise<never> {
  const err = e as Error & { code?: string };
  log?.error({ err }, 'pipeline failed');
  send({ type: 'failed', code: e instanceof AunetError ? e.code : null, message: err.message });
  return exit(PIPELINE_EXIT.FAILED);
}

async function start(m: Extract<ToPipeline, { type: 'start' }>): Promise<void> {
  const f = m.firmware;
  log = boxLog(m.config.log.level, { proc: 'pipeline', device: m.config.device, slot: f.slot, version: f.version });
  // beats from the first moment, so the agent's watchdog sees a loop that is alive while the model loads
  const beat = setInterval(() => send({ type: 'heartbeat', state: service?.pipeline.state.state ?? 'starting' }), m.heartbeatMs);
  beat.unref();
  const bytes = readFileSync(m.image);
  if (sha256(bytes) !== m.imageSha256) throw new AunetError('HASH_MISMATCH', `${m.image} is not the image the agent verified (it changed on disk)`);
  const img = parseImage(bytes);
  // the self-test runs the build the pipeline runs, on as many kernel threads
  const threads = defaultThreads();
  const test = await imageSelfTest(img, m.runtime, threads);
  send({ type: 'self-test', ...test });
  if (!test.ok) {
    log.error({ detail: test.detail }, 'self-test failed');
    await exit(PIPELINE_EXIT.SELF_TEST);
  }
  log.info({ detail: test.detail }, 'self-test passed');
  const model = modelFromBytes(section(img, 'model'), `firmware-${f.version}.aunet`);
  const runtime = section(img, `runtime-${m.runtime}`);
  service = await LiveService.start({
    config: { ...m.config, threads },
    log,
    version: m.software,
    model,
    runtime: { build: m.runtime, bytes: runtime },
    broker: m.broker,
    firmware: f,
    lastWill: false,
  });
  service.done.catch(fail);
  log.info({ model: model.name, sha256: model.sha256, runtime: m.runtime, threads, engine: service.engine.kind }, 'pipeline running');
  send({ type: 'ready', model: { name: model.name, sha256: model.sha256 } });
}

process.on('message', (m: ToPipeline) => {
  if (m.type === 'start') start(m).catch(fail);
  else if (m.type === 'firmware') service?.setFirmware(m.firmware);
  else if (m.type === 'stop') void exit(0);
});
// The agent is gone (killed, crashed, power cut in a test): a pipeline without its agent must not
// run on, nor publish `stopped` over the agent's Last Will, so it ends at once.
process.on('disconnect', () => process.exit(PIPELINE_EXIT.NO_AGENT));
process.on('uncaughtException', (e) => void fail(e));
process.on('unhandledRejection', (e) => void fail(e));
