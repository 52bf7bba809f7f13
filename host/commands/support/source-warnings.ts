// A source's warnings (a skipped FIFO in a folder, a torn tail, a salvaged
// recording) on stderr as the tools' one warning line, as they happen.
import type { FrameSource } from '../../../camera/frame.js';

export function printWarnings(src: FrameSource): void {
  const say = (w: string) => process.stderr.write(`aunet: warning: ${w}\n`);
  for (const w of src.warnings) say(w);
  src.on('warning', say);
}
