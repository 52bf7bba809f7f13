// Text from a file shown on a terminal: control characters (a tar entry name
// or manifest field can carry terminal escape sequences) become \xNN, so what
// is printed never drives the terminal.

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/** `s` with control characters escaped as \xNN. */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
