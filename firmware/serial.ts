// Opening a serial port (serialport) as the byte stream a PacketLink needs.
import { SerialPort } from 'serialport';
import { FileError } from '../common/errors.js';

export async function openSerial(path: string, baudRate = 921600): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new FileError(path, `cannot open serial port: ${err.message}`, 'NO_PORT')) : resolve())));
  pollEveryWaitedEvent(port);
  return port;
}

export function closeSerial(port: SerialPort): Promise<void> {
  // closing cancels a pending read, which serialport reports as an 'error' event: expected here, not a crash
  port.on('error', () => {});
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

/** The part of @serialport/bindings-cpp's Poller (Linux and macOS) used here. */
interface Poller {
  poll(events?: number): void;
  listenerCount(event: string): number;
}

/** libuv's poll events, as the Poller takes them */
const UV_READABLE = 1;
const UV_WRITABLE = 2;
const UV_DISCONNECT = 4;

/**
 * @serialport/bindings-cpp 13's Poller (src/poller.cpp) restarts libuv's poll with only the
 * event just asked for, dropping one still waited for: a read that finds no data and waits
 * while a write waits for room in the port's buffer leaves the write waiting until data arrives
 * again (and the reverse). A host that stops in the middle of a frame that way waits for ever —
 * the box has nothing to answer to half a frame: the flasher's "chunk N unacknowledged ... the
 * box does not answer STATUS either" under load (its own writes were stuck, the box was idle;
 * a flash of 100 frames over a pty dropped a waiting write 24-57 times, each rescued only by
 * the next acknowledgement). So this port's poller always asks for every event someone waits for.
 * Serialport ports on Windows have no Poller: nothing to do there.
 */
function pollEveryWaitedEvent(port: SerialPort): void {
  const poller = (port.port as { poller?: Poller } | undefined)?.poller;
  if (!poller || typeof poller.poll !== 'function') return;
  const poll = poller.poll.bind(poller);
  poller.poll = (events = 0) => {
    const waited = (name: string, flag: number) => (poller.listenerCount(name) > 0 ? flag : 0);
    poll(events | waited('readable', UV_READABLE) | waited('writable', UV_WRITABLE) | waited('disconnect', UV_DISCONNECT));
  };
}
