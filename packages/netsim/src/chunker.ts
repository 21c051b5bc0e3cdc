/**
 * Re-splits a byte stream into pieces of other sizes: the pure part of the re-chunking relay,
 * with no socket or timer inside.
 */

import {
  checkInteger,
  checkMs,
  checkOneOf,
  invalidArgType,
  outOfRange,
} from "@socket-lab/core/internal";
import type { Random } from "./prng.js";

/**
 * How the re-chunking relay re-splits each direction of a stream.
 * - `bytes`: every read is cut into pieces of `size` bytes (the last piece of a read may be
 *   shorter). `size: 1` sends the stream one byte per write.
 * - `random`: every read is cut into pieces of a random size from `min` to `max` bytes, one
 *   draw per piece (the last piece of a read may be shorter than `min`).
 * - `coalesce`: reads are joined and written in pieces of exactly `maxBytes`; bytes that do not
 *   fill a piece are written at most `maxDelayMs` after the first of them arrived, or when the
 *   stream ends.
 */
export type Chunking =
  | { readonly mode: "bytes"; readonly size: number }
  | { readonly mode: "random"; readonly min: number; readonly max: number }
  | { readonly mode: "coalesce"; readonly maxBytes: number; readonly maxDelayMs: number };

/** Cuts a stream into pieces; made per connection and direction. */
export interface Chunker {
  /** Takes one read and returns the pieces to write now, in order (none while coalescing). */
  push(data: Buffer): Buffer[];
  /** Returns whatever is held (at most one piece). */
  flush(): Buffer[];
  /** Bytes held for coalescing. */
  readonly buffered: number;
}

/** Largest piece or coalescing buffer, in bytes: 16 MiB. */
const MAX_PIECE_BYTES = 16 * 1024 * 1024;

/**
 * Checks a chunking option and returns it.
 * @throws {RangeError} naming the field and the value; {TypeError} for a non-object.
 */
export function checkChunking(chunking: unknown): Chunking {
  if (typeof chunking !== "object" || chunking === null) {
    throw invalidArgType("chunking", "an object with a mode", chunking);
  }
  const c = chunking as Record<string, unknown>;
  const mode = checkOneOf("chunking.mode", c.mode, ["bytes", "random", "coalesce"] as const);
  if (mode === "bytes") {
    return { mode, size: checkInteger("chunking.size", c.size, 1, MAX_PIECE_BYTES) };
  }
  if (mode === "random") {
    const min = checkInteger("chunking.min", c.min, 1, MAX_PIECE_BYTES);
    const max = checkInteger("chunking.max", c.max, 1, MAX_PIECE_BYTES);
    if (min > max) {
      throw outOfRange("chunking.min", `an integer <= chunking.max (${max})`, min);
    }
    return { mode, min, max };
  }
  return {
    mode,
    maxBytes: checkInteger("chunking.maxBytes", c.maxBytes, 1, MAX_PIECE_BYTES),
    maxDelayMs: checkMs("chunking.maxDelayMs", c.maxDelayMs),
  };
}

function cut(data: Buffer, nextSize: () => number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; ) {
    const end = Math.min(offset + nextSize(), data.length);
    pieces.push(data.subarray(offset, end));
    offset = end;
  }
  return pieces;
}

/** Makes a chunker; `random` is drawn once per piece in `random` mode and never otherwise. */
export function createChunker(chunking: Chunking, random: Random): Chunker {
  if (chunking.mode === "bytes") {
    const size = chunking.size;
    return { push: (data) => cut(data, () => size), flush: () => [], buffered: 0 };
  }
  if (chunking.mode === "random") {
    const { min, max } = chunking;
    const span = max - min + 1;
    const draw = () => min + Math.floor(random() * span);
    return { push: (data) => cut(data, draw), flush: () => [], buffered: 0 };
  }
  const { maxBytes } = chunking;
  let parts: Buffer[] = [];
  let buffered = 0;
  return {
    push(data) {
      parts.push(data);
      buffered += data.length;
      if (buffered < maxBytes) return [];
      const all = Buffer.concat(parts, buffered);
      const whole = all.length - (all.length % maxBytes);
      parts = whole === all.length ? [] : [all.subarray(whole)];
      buffered = all.length - whole;
      return cut(all.subarray(0, whole), () => maxBytes);
    },
    flush() {
      if (buffered === 0) return [];
      const piece = Buffer.concat(parts, buffered);
      parts = [];
      buffered = 0;
      return [piece];
    },
    get buffered() {
      return buffered;
    },
  };
}
