// Listening on a TCP port (the embedded broker's MQTT and HTTP ports, the
// monitor's page): one error for a port that cannot be had, naming the
// address and what the port is for. A port comes from a flag or its config
// key, so the table makes these usage errors (exit 2): choose another port.
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { AunetError } from '../../common/errors.js';

/** Listen on host:port; `what` names the port for the message, e.g. 'MQTT port (broker.port / --port)'. */
export function listen(server: NetServer | HttpServer, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const inUse = err.code === 'EADDRINUSE';
      reject(new AunetError(inUse ? 'EADDRINUSE' : 'LISTEN', `cannot listen on ${host}:${port} for the ${what}: ${inUse ? 'port already in use' : err.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
