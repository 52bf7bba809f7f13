// The command and status tables of docs/serial-protocol.md, in one place
// (esptool keeps ESP_CMDS the same way), and the typed error for a status.
import { AunetError } from '../common/errors.js';

/** Version 2: the image head travels in HEAD pieces, so a manifest of any size the format allows (1 MiB) fits. */
export const PROTOCOL_VERSION = 2;

export const COMMANDS = {
  HELLO: 0x01,
  STATUS: 0x02,
  BEGIN: 0x03,
  DATA: 0x04,
  END: 0x05,
  ACTIVATE: 0x06,
  REBOOT: 0x07,
  HEAD: 0x08,
  READ_STATE: 0x10,
  ERASE_SLOT: 0x11,
} as const;
export type CommandName = keyof typeof COMMANDS;

/** Commands a box in production mode (the default) accepts: flashing only. */
export const PRODUCTION_COMMANDS: ReadonlySet<number> = new Set([
  COMMANDS.HELLO, COMMANDS.STATUS, COMMANDS.HEAD, COMMANDS.BEGIN, COMMANDS.DATA, COMMANDS.END, COMMANDS.ACTIVATE, COMMANDS.REBOOT,
]);

/** BEGIN flag bits (docs/serial-protocol.md). */
export const BEGIN_FLAGS = { ALLOW_DOWNGRADE: 0x01 } as const;

export const STATUS = {
  OK: 0,
  BAD_REQUEST: 1,
  BAD_STATE: 2,
  BAD_IMAGE: 3,
  BAD_SIGNATURE: 4,
  HASH_MISMATCH: 5,
  WRONG_HARDWARE: 6,
  DOWNGRADE: 7,
  NOT_ALLOWED: 8,
  IO_ERROR: 9,
  UNKNOWN_COMMAND: 10,
} as const;
export type StatusName = keyof typeof STATUS;

const STATUS_TEXT: Record<StatusName, string> = {
  OK: 'ok',
  BAD_REQUEST: 'the request payload is malformed',
  BAD_STATE: 'the command is not valid in the agent’s current state',
  BAD_IMAGE: 'the image header or manifest is malformed',
  BAD_SIGNATURE: 'the image signature does not verify with the box’s public key',
  HASH_MISMATCH: 'the image or a section hash does not match',
  WRONG_HARDWARE: 'the image was built for another hardware id',
  DOWNGRADE: 'the image is older than the box allows (a lower security counter, or a lower version at the same counter without downgrade permission)',
  NOT_ALLOWED: 'the box is in production mode and accepts only flashing commands (start its agent with --development for the others)',
  IO_ERROR: 'the box could not write its storage',
  UNKNOWN_COMMAND: 'the box does not know this command',
};

export function statusName(code: number): StatusName | undefined {
  return (Object.keys(STATUS) as StatusName[]).find((k) => STATUS[k] === code);
}

export function commandName(id: number): string {
  return (Object.keys(COMMANDS) as CommandName[]).find((k) => COMMANDS[k] === id) ?? `0x${id.toString(16)}`;
}

/** A non-OK status from the box, with the box's own detail message. */
export class DeviceError extends AunetError {
  constructor(readonly status: StatusName | 'UNKNOWN', readonly command: string, detail: string) {
    super('DEVICE', `${command} failed: ${status}${detail ? ` — ${detail}` : ''} (${status === 'UNKNOWN' ? 'unknown status' : STATUS_TEXT[status]})`);
    this.name = 'DeviceError';
  }
}

/** Throw DeviceError unless the response payload starts with OK; return the rest. */
export function checkStatus(command: number, payload: Uint8Array): Uint8Array {
  const code = payload[0];
  if (code === STATUS.OK) return payload.subarray(1);
  const name = code === undefined ? 'UNKNOWN' : (statusName(code) ?? 'UNKNOWN');
  throw new DeviceError(name, commandName(command), new TextDecoder().decode(payload.subarray(1)));
}
