// MQTT packets written by hand, for tests that must send what a well-behaved
// client library never would (a PUBLISH announcing 250 MiB).
import { connect, type Socket } from 'node:net';

/** CONNECT (anonymous or with credentials), then the fixed header of a PUBLISH announcing `announced` bytes. */
export function connectPacket(clientId: string, creds?: { username: string; password: string }): Buffer {
  const str = (s: string) => Buffer.concat([Buffer.from([s.length >> 8, s.length & 255]), Buffer.from(s)]);
  const flags = creds ? 0xc2 : 0x02;
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0, 30]), str(clientId), ...(creds ? [str(creds.username), str(creds.password)] : [])]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A PUBLISH QoS 0 to `topic` whose remaining length is `announced` (only its first `send` body bytes are written). */
function publishHead(topic: string, announced: number): Buffer {
  return Buffer.concat([Buffer.from([0x30]), varint(announced), Buffer.from([topic.length >> 8, topic.length & 255]), Buffer.from(topic)]);
}

/** Write CONNECT then a publish announcing `announced` bytes and stream `sendBytes` of it; resolve how many bytes were accepted before the socket closed. */
export function oversizedPublish(port: number, announced: number, sendBytes: number, creds?: { username: string; password: string }, topic = 'aunet/sec/frame'): Promise<{ written: number; closed: boolean }> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    let written = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const pump = () => {
      while (!closed && written < sendBytes) {
        written += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      if (!closed) setTimeout(() => (s.destroy(), resolve({ written, closed: false })), 500);
    };
    s.on('close', () => {
      closed = true;
      resolve({ written, closed: true });
    });
    s.on('error', () => {});
    s.on('data', (d) => {
      // CONNACK: now the publish
      if (d[0] === 0x20 && written === 0) {
        s.write(publishHead(topic, announced));
        pump();
      }
    });
    s.write(connectPacket(`gate-${Math.random()}`, creds));
  });
}

