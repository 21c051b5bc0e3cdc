/**
 * The raw baselines' side of the wire format: the same 4-byte big-endian length prefix that
 * `lengthPrefixed()` writes, handled the way a hand-written node:net program would — frames are
 * counted where they lie in each chunk, never copied or allocated.
 */

/** Bytes in a frame's length prefix. */
export const HEADER_BYTES = 4;

/** One whole frame (prefix + `payloadBytes` bytes of filler), ready to write again and again. */
export function rawFrame(payloadBytes: number): Buffer {
  const frame = Buffer.alloc(HEADER_BYTES + payloadBytes, 0x61);
  frame.writeUInt32BE(payloadBytes, 0);
  return frame;
}

/** Counts the length-prefixed frames completed by each chunk of a byte stream, in any split. */
export class FrameCounter {
  /** Payload bytes still to come of the current frame. */
  #remaining = 0;
  /** Prefix bytes gathered so far when a prefix is split across chunks, and their value. */
  #headerHeld = 0;
  #header = 0;

  /** Returns how many frames `chunk` completes. */
  push(chunk: Buffer): number {
    const length = chunk.length;
    let frames = 0;
    let pos = 0;
    while (pos < length) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, length - pos);
        pos += take;
        this.#remaining -= take;
        if (this.#remaining === 0) frames++;
        continue;
      }
      if (this.#headerHeld === 0 && length - pos >= HEADER_BYTES) {
        this.#remaining = chunk.readUInt32BE(pos);
        pos += HEADER_BYTES;
      } else {
        this.#header = this.#header * 256 + (chunk[pos++] as number);
        if (++this.#headerHeld < HEADER_BYTES) continue;
        this.#remaining = this.#header;
        this.#header = 0;
        this.#headerHeld = 0;
      }
      if (this.#remaining === 0) frames++;
    }
    return frames;
  }
}
