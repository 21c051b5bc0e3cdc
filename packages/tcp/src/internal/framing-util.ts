/** Small helpers shared by the framings and the connection: options and chunks. */

import type { Framing } from "../framing.js";

/** A framing from its parts, with `encode()` made of `encodedLength()` and `encodeInto()`. */
export function framingOf<M>(parts: Omit<Framing<M>, "encode">): Framing<M> {
  return {
    ...parts,
    encode(message) {
      const buffer = Buffer.allocUnsafe(parts.encodedLength(message));
      parts.encodeInto(message, buffer, 0);
      return buffer;
    },
  };
}

/**
 * Node's own Buffer class (`FastBuffer`, what `Buffer.from()` and `subarray()` construct), as
 * ws reaches it. Constructing it directly costs less than half of what `buffer.subarray()` does
 * in Node 20 (its argument checks and the `.buffer`/`.byteOffset` reads per call add up to most
 * of a decoder's time with small frames), and what it makes is a plain Buffer.
 */
const FastBuffer = (Buffer as unknown as { [Symbol.species]: FastBufferConstructor })[
  Symbol.species
];

/** Node's `FastBuffer(arrayBuffer, byteOffset, length)`: a Buffer over that memory, unchecked. */
type FastBufferConstructor = new (
  memory: ArrayBufferLike,
  offset: number,
  length: number,
) => Buffer;

/** A Buffer view of the same memory as `chunk`, without copying. */
export function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk)
    ? chunk
    : new FastBuffer(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Bytes `offset` to `offset + length` of `memory` as a Buffer, without copying or checking:
 * the caller keeps them in bounds.
 * @example
 * const chunk = Buffer.from("0000000568656c6c6f", "hex"); // a 5-byte frame
 * bufferView(chunk.buffer, chunk.byteOffset + 4, 5) //=> <Buffer 68 65 6c 6c 6f>
 */
export function bufferView(memory: ArrayBufferLike, offset: number, length: number): Buffer {
  return new FastBuffer(memory, offset, length);
}
