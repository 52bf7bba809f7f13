// The messages between the agent and its pipeline child process
// (host/box/pipeline-process.ts starts host/box/pipeline-main.ts), over
// Node's IPC channel. The agent verifies the image and decides the runtime
// build and the configuration; the child runs them and reports.
import type { RunConfig } from '../../contracts/run-config.js';
import type { FirmwareStatus } from '../../contracts/firmware-status.js';
import type { PipelineState } from '../pipeline/state.js';
import type { ExecutableBuild } from './runtime-choice.js';

/** Where the child publishes: the agent's embedded broker (service user) or the box's external broker. */
export interface BrokerLink {
  url: string;
  username?: string;
  password?: string;
}

export type ToPipeline =
  | {
      type: 'start';
      /** the slot's image file, and the SHA-256 the agent verified (the child refuses another file) */
      image: string;
      imageSha256: string;
      runtime: ExecutableBuild;
      config: RunConfig;
      broker: BrokerLink;
      firmware: FirmwareStatus;
      /** installed software version, for the status */
      software: string;
      heartbeatMs: number;
    }
  | { type: 'firmware'; firmware: FirmwareStatus }
  | { type: 'stop' };

export type FromPipeline =
  | { type: 'self-test'; ok: boolean; detail: string }
  | { type: 'ready'; model: { name: string; sha256: string } }
  | { type: 'heartbeat'; state: PipelineState | 'starting' }
  | { type: 'failed'; code: string | null; message: string };

/** Exit statuses of the child the agent reads (besides 0: stopped on request). */
export const PIPELINE_EXIT = { FAILED: 1, SELF_TEST: 3, NO_AGENT: 4 } as const;
