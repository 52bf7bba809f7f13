// Shared by the end-to-end tests: a recording subscriber and the direct
// inference the published frames are checked against.
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { phantomFrames, type PhantomOptions } from '../../../camera/sources/phantom.js';
import { preprocess } from '../../../camera/preprocess.js';
import { loadEngine } from '../../../host/load/engine-loader.js';
import { loadModel } from '../../../host/load/model-loader.js';
import { decodeFrameMessage, type FrameMessage } from '../../../contracts/frame-message.js';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  at: number;
}

/** Records everything a client receives; waits for conditions. */
export class Recorder {
  readonly messages: Received[] = [];
  readonly frames: FrameMessage[] = [];
  #waiters: (() => void)[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload, retain: packet.retain, at: Date.now() });
      if (topic.endsWith('/frame')) this.frames.push(decodeFrameMessage(new Uint8Array(payload)));
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  on(suffix: string): Received[] {
    return this.messages.filter((m) => m.topic.endsWith(suffix));
  }

  json(suffix: string): Record<string, unknown>[] {
    return this.on(suffix).map((m) => JSON.parse(m.payload.toString()) as Record<string, unknown>);
  }

  /** Resolve once pred() holds; reject after ms. */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

/**
 * The retained message a new subscriber to `topic` gets; the client joins `clients` for cleanup. MQTT delivers the
 * retained copy on subscribe, but a live publish made while the subscription is set up may arrive before it (seen
 * under a loaded full suite: a status published as the late subscriber joined), so it waits for the retained one.
 */
export async function retainedMessage(url: string, topic: string, clients: MqttClient[], what = 'retained status'): Promise<Received> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  clients.push(client);
  const rec = new Recorder(client);
  await client.subscribeAsync(topic);
  await rec.until(() => rec.messages.some((m) => m.retain), 5000, what);
  return rec.messages.find((m) => m.retain)!;
}

export function assertIncreasingIds(frames: FrameMessage[]): void {
  for (let i = 1; i < frames.length; i++) {
    assert.ok(frames[i].frameId > frames[i - 1].frameId, `frame ids not strictly increasing: ${frames[i - 1].frameId} then ${frames[i].frameId}`);
  }
}

/**
 * Check published frames against a direct (whole-layer executor) inference of
 * the same phantom frames: masks, probability maps and attention maps equal.
 */
export async function assertMatchesDirect(frames: FrameMessage[], modelSpec: string, phantom: Partial<PhantomOptions>): Promise<number> {
  const { model } = await loadModel(modelSpec);
  const { engine } = await loadEngine(model, { engine: 'direct' });
  const maxId = Math.max(...frames.map((f) => f.frameId));
  const source = phantomFrames(maxId + 1, phantom);
  const size = { width: model.arch.width, height: model.arch.height, channels: model.arch.channels };
  let checked = 0;
  for (const f of frames) {
    const src = source[f.frameId];
    const input = preprocess({ width: src.width, height: src.height, data: src.pixels }, size, model.preprocessing);
    const r = engine.run(input.data);
    assert.deepEqual(f.frame, input.data, `frame ${f.frameId}: published picture differs from the model input`);
    assert.deepEqual(f.prob, r.prob.data, `frame ${f.frameId}: probability map differs`);
    if (f.threshold === 128) assert.deepEqual(f.mask, r.mask, `frame ${f.frameId}: mask differs`);
    for (let k = 0; k < 4; k++) {
      const a = f.attention[k];
      if (a) assert.deepEqual(a, r.attention[k].data, `frame ${f.frameId}: attention map a${k + 1} differs`);
    }
    checked++;
  }
  return checked;
}

