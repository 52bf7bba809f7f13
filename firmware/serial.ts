// Opening a serial port (serialport) as the byte stream a PacketLink needs.
import { SerialPort } from 'serialport';
import { FileError } from '../common/errors.js';

export async function openSerial(path: string, baudRate = 921600): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new FileError(path, `cannot open serial port: ${err.message}`, 'NO_PORT')) : resolve())));
  return port;
}

export function closeSerial(port: SerialPort): Promise<void> {
  // closing cancels a pending read, which serialport reports as an 'error' event: expected here, not a crash
  port.on('error', () => {});
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}
