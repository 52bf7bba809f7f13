// `aunet monitor --broker ws://...`: serve the attention monitor (monitor/dist/)
// on 127.0.0.1 for a broker elsewhere; the page learns the broker from /config.json.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';
import { listen } from '../publish/listen.js';
import { MONITOR_DIST, monitorAvailable, staticHandler } from '../publish/static-files.js';
import { DEVICE_ID } from '../../contracts/topics.js';

interface MonitorOpts {
  broker: string;
  port: string;
  device?: string;
  host: string;
}

export function register(program: Command): void {
  program
    .command('monitor')
    .description('serve the attention monitor for a broker reachable over MQTT/WebSocket')
    .requiredOption('--broker <url>', 'WebSocket URL of the broker, e.g. ws://127.0.0.1:8080/mqtt')
    .option('--port <n>', 'HTTP port (0 = any free port)', '8081')
    .option('--device <id>', 'device to show first (default: the first one seen)')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(async (o: MonitorOpts) => {
      if (!/^wss?:\/\/[^/]/.test(o.broker)) throw new UsageError(`--broker ${o.broker}: the monitor talks MQTT over WebSocket; give a ws:// or wss:// URL`);
      const httpPort = parseInteger(o.port, '--port', { min: 0, max: 65535 });
      if (o.device !== undefined && !DEVICE_ID.test(o.device)) throw new UsageError(`--device ${o.device}: 1 to 64 characters of A-Z a-z 0-9 _ -`);
      if (!monitorAvailable()) process.stdout.write(`WARNING: ${MONITOR_DIST} has no index.html; run \`npm run build:monitor\` first.\n`);
      const server = createServer(staticHandler(MONITOR_DIST, { broker: o.broker, device: o.device ?? null }));
      await listen(server, httpPort, o.host, 'monitor page (--port)');
      const { port } = server.address() as AddressInfo;
      process.stdout.write(`Monitor: http://${o.host}:${port}/  (broker ${o.broker})\nCtrl-C to stop.\n`);
      await new Promise<void>((resolve) => {
        const stop = () => server.close(() => resolve());
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
