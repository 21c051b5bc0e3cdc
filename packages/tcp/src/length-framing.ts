/**
 * Length-prefixed framing: each frame is a 4-byte big-endian payload length, then the payload.
 * Byte for byte what tokio-util's `LengthDelimitedCodec::new()` reads and writes.
 */

import { constants } from "node:buffer";
import { DEFAULT_MAX_FRAME_BYTES, type SocketError } from "@socket-lab/core";
import { checkInteger, invalidArgType, withDefaults } from "@socket-lab/core/internal";
import type { FrameDecoder, Framing } from "./framing.js";
import { ChunkList } from "./internal/chunk-list.js";
import { frameTooLarge, frameTruncated } from "./internal/framing-errors.js";
import { asBuffer, bufferView, framingOf } from "./internal/framing-util.js";

/** Bytes in the length header: an unsigned 32-bit big-endian integer. */
const HEADER_BYTES = 4;

/** The largest length a 4-byte header can hold. */
const MAX_U32 = 0xffff_ffff;

/** How {@link lengthPrefixed} reads and writes frames. */
export interface LengthFramingOptions {
  /**
   * Largest frame payload, in bytes, the 4-byte header not counted. Larger frames fail with
   * `ERR_FRAME_TOO_LARGE` when sent, and when received as soon as their header arrives,
   * before any of the payload is buffered. At most 4,294,967,295 (what the header can hold).
   * @default DEFAULT_MAX_FRAME_BYTES (8,388,608 bytes, 8 MiB: tokio-util's default too)
   */
  maxFrameBytes?: number;
}

const DEFAULTS: Required<LengthFramingOptions> = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
};

/**
 * Length-prefixed framing for binary messages: each frame is its payload length as an
 * unsigned 32-bit big-endian integer (4 bytes, payload only, header not counted), then the
 * payload. Zero-length frames are valid. This is tokio-util's `LengthDelimitedCodec` with its
 * default builder (length field at offset 0, 4 bytes, big-endian, no length adjustment, the
 * 4 header bytes skipped, 8 MiB maximum), so a Rust peer using it reads and writes the same
 * bytes.
 *
 * A decoded frame whose payload arrived inside one pushed chunk is a view of that chunk, not a
 * copy (so many frames in one chunk cost no copying); a payload split across chunks is copied
 * into a new Buffer. The decoder's
 * `bufferedBytes` counts the payload bytes it holds, plus the header bytes while fewer than
 * 4 have arrived: it stays below `maxFrameBytes` whatever the peer sends.
 *
 * @throws {TypeError|RangeError} for a bad option, naming it and its value.
 * @example
 * const framing = lengthPrefixed();
 * framing.encode(Buffer.from("hello"));
 * //=> <Buffer 00 00 00 05 68 65 6c 6c 6f>
 * const decoder = framing.createDecoder();
 * decoder.push(Buffer.from("0000000568656c", "hex"));
 * //=> []
 * decoder.push(Buffer.from("6c6f00000000", "hex"));
 * //=> [<Buffer 68 65 6c 6c 6f>, <Buffer >]
 */
export function lengthPrefixed(options?: LengthFramingOptions): Framing<Buffer> {
  const maxFrameBytes = maxFrameBytesOf(options);

  const encodedLength = (frame: Buffer): number => {
    if (!(frame instanceof Uint8Array)) {
      throw invalidArgType("frame argument", "an instance of Buffer or Uint8Array", frame);
    }
    if (frame.length > maxFrameBytes) throw frameTooLarge(frame.length, maxFrameBytes, "send");
    return HEADER_BYTES + frame.length;
  };

  const encodeHeader = (frame: Buffer, target: Buffer, offset: number): number => {
    target.writeUInt32BE(frame.length, offset);
    return offset + HEADER_BYTES;
  };

  const encodeInto = (frame: Buffer, target: Buffer, offset: number): number => {
    const at = encodeHeader(frame, target, offset);
    target.set(frame, at);
    return at + frame.length;
  };

  return framingOf({
    name: "length",
    maxBytes: maxFrameBytes,
    createDecoder: () => new LengthDecoder<Buffer>(maxFrameBytes, false),
    encodedLength,
    encodeInto,
    encodeHeader,
  });
}

/**
 * The same wire format as {@link lengthPrefixed}, with each frame's payload handed over as the
 * pieces it arrived in (`Buffer[]`) instead of one Buffer: nothing is copied together, so
 * frames bigger than one read (Node reads at most 64 KiB at a time) cost no copy. Use it for
 * bulk data or to forward frames (a proxy sends the pieces on as they are); use
 * `lengthPrefixed()` when you want each frame in one piece.
 *
 * A decoded frame lists its payload's bytes in order: views of the received chunks, except
 * pieces under 512 bytes, which are copied together (a peer sending one byte per segment must
 * not cost one Buffer per byte). A frame that arrived inside one chunk is one view; an empty
 * frame is `[]`. To send, pass the pieces of a payload (any number, any sizes): the frame
 * carries them one after the other, and over the high-water mark they are written from your
 * buffers without being copied.
 *
 * @throws {TypeError|RangeError} for a bad option, naming it and its value.
 * @example
 * const framing = lengthPrefixedPieces();
 * framing.encode([Buffer.from("hel"), Buffer.from("lo")]);
 * //=> <Buffer 00 00 00 05 68 65 6c 6c 6f>
 * const decoder = framing.createDecoder();
 * decoder.push(Buffer.from("0000000568656c", "hex"));
 * //=> []
 * decoder.push(Buffer.from("6c6f", "hex"));
 * //=> [[<Buffer 68 65 6c>, <Buffer 6c 6f>]]
 */
export function lengthPrefixedPieces(options?: LengthFramingOptions): Framing<Buffer[]> {
  const maxFrameBytes = maxFrameBytesOf(options);

  const payloadBytes = (pieces: readonly Uint8Array[]): number => {
    if (!Array.isArray(pieces)) {
      throw invalidArgType("frame argument", "an array of Buffers or Uint8Arrays", pieces);
    }
    let bytes = 0;
    for (const piece of pieces) {
      if (!(piece instanceof Uint8Array)) {
        throw invalidArgType("frame.piece", "an instance of Buffer or Uint8Array", piece);
      }
      bytes += piece.length;
    }
    return bytes;
  };

  const encodedLength = (pieces: Buffer[]): number => {
    const bytes = payloadBytes(pieces);
    if (bytes > maxFrameBytes) throw frameTooLarge(bytes, maxFrameBytes, "send");
    return HEADER_BYTES + bytes;
  };

  const encodeHeader = (pieces: Buffer[], target: Buffer, offset: number): number => {
    let bytes = 0;
    for (const piece of pieces) bytes += piece.length;
    target.writeUInt32BE(bytes, offset);
    return offset + HEADER_BYTES;
  };

  const encodeInto = (pieces: Buffer[], target: Buffer, offset: number): number => {
    let at = encodeHeader(pieces, target, offset);
    for (const piece of pieces) {
      target.set(piece, at);
      at += piece.length;
    }
    return at;
  };

  return framingOf({
    name: "length",
    maxBytes: maxFrameBytes,
    createDecoder: () => new LengthDecoder<Buffer[]>(maxFrameBytes, true),
    encodedLength,
    encodeInto,
    encodeHeader,
  });
}

function maxFrameBytesOf(options: LengthFramingOptions | undefined): number {
  const settings = withDefaults(DEFAULTS, options);
  return checkInteger(
    "maxFrameBytes",
    settings.maxFrameBytes,
    0,
    Math.min(MAX_U32, constants.MAX_LENGTH),
  );
}

/** Decodes frames into one Buffer each (`Buffer`), or into their pieces (`Buffer[]`). */
class LengthDecoder<F extends Buffer | Buffer[]> implements FrameDecoder<F> {
  readonly #maxFrameBytes: number;
  /** Hand out each frame as its pieces rather than in one Buffer. */
  readonly #pieces: boolean;
  /** A header that arrives split across chunks is gathered here. */
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerHeld = 0;
  /** The payload length of the frame being received, or -1 while reading its header. */
  #frameBytes = -1;
  /** Its payload so far, while it is incomplete. */
  readonly #payload = new ChunkList();
  #failure: SocketError | undefined;

  constructor(maxFrameBytes: number, pieces: boolean) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#pieces = pieces;
  }

  get bufferedBytes(): number {
    return this.#headerHeld + this.#payload.length;
  }

  get incomplete(): boolean {
    return this.#headerHeld > 0 || this.#frameBytes >= 0;
  }

  push(chunk: Uint8Array): F[] {
    if (this.#failure !== undefined) throw this.#failure;
    const buffer = asBuffer(chunk);
    const memory = buffer.buffer;
    const base = buffer.byteOffset;
    const frames: (Buffer | Buffer[])[] = [];
    const pieces = this.#pieces;
    let pos = 0;
    while (pos < buffer.length) {
      if (this.#frameBytes < 0) {
        let frameBytes: number;
        if (this.#headerHeld === 0 && buffer.length - pos >= HEADER_BYTES) {
          frameBytes = buffer.readUInt32BE(pos);
          pos += HEADER_BYTES;
        } else {
          const take = Math.min(HEADER_BYTES - this.#headerHeld, buffer.length - pos);
          buffer.copy(this.#header, this.#headerHeld, pos, pos + take);
          this.#headerHeld += take;
          pos += take;
          if (this.#headerHeld < HEADER_BYTES) break;
          frameBytes = this.#header.readUInt32BE(0);
          this.#headerHeld = 0;
        }
        // Checked before anything is buffered: a bogus header costs nothing.
        if (frameBytes > this.#maxFrameBytes) {
          throw this.#fail(frameTooLarge(frameBytes, this.#maxFrameBytes, "receive"));
        }
        // A whole frame inside this chunk: hand out a view of it, no copy.
        if (buffer.length - pos >= frameBytes) {
          const view = bufferView(memory, base + pos, frameBytes);
          frames.push(pieces ? (frameBytes === 0 ? [] : [view]) : view);
          pos += frameBytes;
          continue;
        }
        this.#frameBytes = frameBytes;
      } else {
        const missing = this.#frameBytes - this.#payload.length;
        if (buffer.length - pos < missing) {
          this.#payload.append(buffer.subarray(pos));
          break;
        }
        const tail = buffer.subarray(pos, pos + missing);
        frames.push(pieces ? this.#payload.takePieces(tail) : this.#payload.take(tail));
        pos += missing;
        this.#frameBytes = -1;
      }
    }
    return frames as F[];
  }

  end(): F[] {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#frameBytes >= 0) {
      throw this.#fail(frameTruncated(this.#payload.length, this.#frameBytes, "payload"));
    }
    if (this.#headerHeld > 0) {
      throw this.#fail(frameTruncated(this.#headerHeld, HEADER_BYTES, "header"));
    }
    return [];
  }

  #fail(error: SocketError): SocketError {
    this.#failure = error;
    this.#headerHeld = 0;
    this.#frameBytes = -1;
    this.#payload.clear();
    return error;
  }
}
