// The thumb topic's pacing: at most one thumbnail per interval, made from the
// frame message just published (so it shows exactly what that frame showed).
// Decoding costs well under a millisecond and happens only when one is due.
import { decodeFrameMessage } from '../../contracts/frame-message.js';
import { encodeThumbnail, thumbnailOf } from '../../contracts/thumbnail.js';

export class ThumbnailPacer {
  #last = -Infinity;
  /** `intervalMs` 0 = no thumbnails */
  constructor(readonly intervalMs: number) {}

  /** The thumbnail message to publish beside this frame message, or null when the last one is recent. */
  offer(frameMessage: Uint8Array, now: number): Uint8Array | null {
    if (this.intervalMs <= 0 || now - this.#last < this.intervalMs) return null;
    this.#last = now;
    return encodeThumbnail(thumbnailOf(decodeFrameMessage(frameMessage)));
  }
}
