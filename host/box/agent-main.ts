// `aunet device agent`: boot, then serve the serial port until killed.
import { Agent } from './agent.js';
import { faultPointFromEnv } from './faults.js';
import { loadPublicKey } from '../../firmware/keys.js';
import { PacketLink } from '../../firmware/link.js';
import { imageSelfTest } from './self-test.js';
import { openSerial } from '../../firmware/serial.js';
import { Storage } from '../../firmware/slots.js';

export interface AgentMainOptions {
  port: string;
  baud: number;
  root: string;
  pubkey: string;
  hardwareId: string;
  production: boolean;
  maxTrialBoots: number;
  inputTimeoutMs: number;
}

export async function runAgent(o: AgentMainOptions): Promise<void> {
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  const agent = new Agent({
    storage: new Storage(o.root),
    publicKey: loadPublicKey(o.pubkey),
    hardwareId: o.hardwareId,
    selfTest: imageSelfTest,
    production: o.production,
    maxTrialBoots: o.maxTrialBoots,
    inputTimeoutMs: o.inputTimeoutMs,
    point: faultPointFromEnv(),
    log,
  });
  const report = await agent.boot();
  for (const w of report.warnings) log(`boot warning: ${w}`);
  const port = await openSerial(o.port, o.baud);
  const link = new PacketLink(port);
  agent.serve(link);
  log(`agent ready on ${o.port} (${o.production ? 'production' : 'development'} mode), running ${report.running ?? 'no image'}`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      agent.close();
      port.close(() => resolve());
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
