// The serial port's poller over a real pseudo-terminal pair: a read waiting for data must not
// cancel a write waiting for room (firmware/serial.ts, openSerial).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSerial, openSerial } from '../../firmware/serial.ts';
import { ptyPair } from '../host/box/helpers-firmware.ts';

interface PollerLike {
  once(event: 'readable' | 'writable', cb: (err: Error | null) => void): unknown;
}

test('a read waiting for data keeps a write waiting for room: the write goes on once there is room', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'aunet-serial-'));
  const pty = await ptyPair(dir, 'poll');
  t.after(() => {
    pty.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = await openSerial(pty.b);
  t.after(() => closeSerial(port));
  const poller = (port.port as unknown as { poller: PollerLike }).poller;
  // as unixWrite waits after EAGAIN, and then unixRead after EAGAIN, in the same turn: the pty
  // has room, so the write's wait ends at once — unless the read's wait replaced it (no data comes)
  const writable = new Promise<string>((resolve) => poller.once('writable', (err) => resolve(err ? `error ${err.message}` : 'writable')));
  poller.once('readable', () => {});
  const r = await Promise.race([writable, new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000))]);
  assert.equal(r, 'writable');
});
