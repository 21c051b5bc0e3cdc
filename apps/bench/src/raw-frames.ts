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

/**
 * Cuts a byte stream into whole frames, as a minimal hand-written receiver that hands frames
 * on would: a frame inside one chunk is a view of it, one that spans chunks is copied together
 * (`Buffer.concat`), the one copy any receiver needs to hand such a frame on in one piece.
 */
export class FrameAssembler {
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerHeld = 0;
  /** Payload bytes of the current frame, or -1 while reading its prefix. */
  #frameBytes = -1;
  /** Its pieces so far, when it spans chunks, and their total. */
  #parts: Buffer[] = [];
  #held = 0;

  /** Calls `onFrame` with each frame `chunk` completes, in order. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#frameBytes < 0) {
        const take = Math.min(HEADER_BYTES - this.#headerHeld, chunk.length - pos);
        chunk.copy(this.#header, this.#headerHeld, pos, pos + take);
        this.#headerHeld += take;
        pos += take;
        if (this.#headerHeld < HEADER_BYTES) return;
        this.#headerHeld = 0;
        this.#frameBytes = this.#header.readUInt32BE(0);
      }
      const available = chunk.length - pos;
      if (this.#held === 0 && available >= this.#frameBytes) {
        onFrame(chunk.subarray(pos, pos + this.#frameBytes));
        pos += this.#frameBytes;
        this.#frameBytes = -1;
        continue;
      }
      const take = Math.min(this.#frameBytes - this.#held, available);
      this.#parts.push(chunk.subarray(pos, pos + take));
      this.#held += take;
      pos += take;
      if (this.#held < this.#frameBytes) return;
      onFrame(Buffer.concat(this.#parts, this.#held));
      this.#parts = [];
      this.#held = 0;
      this.#frameBytes = -1;
    }
  }
}
