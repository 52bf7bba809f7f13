// Text into the HTML reports (replay, evaluation): escaped, so a file name or
// a model's meta never becomes markup. Hand-written: four characters, no library.

/** `s` with & < > " escaped for HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
