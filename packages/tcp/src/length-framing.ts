/**
 * Length-prefixed framing: each frame is a 4-byte big-endian payload length, then the payload.
 * Byte for byte what tokio-util's `LengthDelimitedCodec::new()` reads and writes.
 */

import { constants } from "node:buffer";
import { DEFAULT_MAX_FRAME_BYTES, type SocketError } from "@socket-lab/core";
import { ChunkList } from "./_chunk-list.js";
import { frameTooLarge, frameTruncated } from "./_framing-errors.js";
import { asBuffer, bufferView, checkByteLimit, withDefaults } from "./_framing-util.js";
import type { FrameDecoder, Framing } from "./framing.js";

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
  const settings = withDefaults(DEFAULTS, options);
  const maxFrameBytes = checkByteLimit(
    "maxFrameBytes",
    settings.maxFrameBytes,
    Math.min(MAX_U32, constants.MAX_LENGTH),
  );

  const encodedLength = (frame: Buffer): number => {
    if (!(frame instanceof Uint8Array)) {
      throw new TypeError(`a frame must be a Buffer or Uint8Array, got ${typeof frame}`);
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

  return {
    name: "length",
    maxBytes: maxFrameBytes,
    createDecoder: () => new LengthDecoder(maxFrameBytes),
    encodedLength,
    encodeInto,
    encodeHeader,
    encode(frame) {
      const buffer = Buffer.allocUnsafe(encodedLength(frame));
      encodeInto(frame, buffer, 0);
      return buffer;
    },
  };
}

class LengthDecoder implements FrameDecoder<Buffer> {
  readonly #maxFrameBytes: number;
  /** A header that arrives split across chunks is gathered here. */
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerHeld = 0;
  /** The payload length of the frame being received, or -1 while reading its header. */
  #frameBytes = -1;
  /** Its payload so far, while it is incomplete. */
  readonly #payload = new ChunkList();
  #failure: SocketError | undefined;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  get bufferedBytes(): number {
    return this.#headerHeld + this.#payload.length;
  }

  push(chunk: Uint8Array): Buffer[] {
    if (this.#failure !== undefined) throw this.#failure;
    const buffer = asBuffer(chunk);
    const memory = buffer.buffer;
    const base = buffer.byteOffset;
    const frames: Buffer[] = [];
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
          frames.push(bufferView(memory, base + pos, frameBytes));
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
        frames.push(this.#payload.take(buffer.subarray(pos, pos + missing)));
        pos += missing;
        this.#frameBytes = -1;
      }
    }
    return frames;
  }

  end(): Buffer[] {
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
