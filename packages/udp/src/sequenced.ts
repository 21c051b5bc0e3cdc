/**
 * The sequenced header: 16 bytes in front of a payload, so a receiver can tell lost,
 * duplicated and reordered datagrams apart and measure one-way latency.
 *
 * ```
 * offset  size  field
 * 0       2     magic 0x53 0x51 ("SQ")
 * 2       1     version 0x01
 * 3       1     flags, 0x00 (reserved: written as 0, ignored when read)
 * 4       4     sequence number, u32 big-endian
 * 8       8     send time, u64 big-endian, microseconds on the sender's monotonic clock
 * 16      …     payload
 * ```
 */

import { ErrorCode, SocketError } from "@socket-lab/core";
import { checkInteger } from "@socket-lab/core/internal";
import { payloadSize } from "./internal/options.js";

/** Bytes of the sequenced header in front of the payload. */
export const SEQUENCED_HEADER_BYTES = 16;

const MAGIC_0 = 0x53; // "S"
const MAGIC_1 = 0x51; // "Q"
const VERSION = 1;
const TWO_POW_32 = 2 ** 32;

/** The fields of the sequenced header. */
export interface SequencedHeader {
  /** Sequence number, an integer from 0 to 2³²−1. */
  readonly seq: number;
  /**
   * Send time in whole microseconds on this process's monotonic clock ({@link nowMicros}).
   * Only a reading of the same clock can be subtracted from it: one-way latency is measured
   * with sender and receiver in one process (on loopback, say).
   */
  readonly sentAtUs: number;
}

/** A decoded sequenced datagram. */
export interface SequencedMessage extends SequencedHeader {
  /** The bytes after the header: a view into the datagram, not a copy. */
  readonly payload: Buffer;
}

/**
 * Microseconds on a monotonic clock (`performance.now()`, which starts near 0 when the
 * process starts and never goes back), as an integer.
 * @example
 * const datagram = { data: encodeSequenced({ seq: 1 }, "hi") }; // as a socket receives it
 * const latencyUs = nowMicros() - decodeSequenced(datagram.data).sentAtUs;
 * latencyUs >= 0 //=> true
 */
export function nowMicros(): number {
  return Math.floor(performance.now() * 1000);
}

/**
 * Puts the 16-byte sequenced header in front of `payload` (a string is written as UTF-8).
 * @param header `sentAtUs` defaults to {@link nowMicros}().
 * @throws {RangeError} for a `seq` outside 0–2³²−1 or a `sentAtUs` that is not a safe
 *   non-negative integer.
 * @example
 * encodeSequenced({ seq: 1, sentAtUs: 1_234_567 }, "hi").toString("hex")
 * //=> "5351010000000001000000000012d6876869"
 */
export function encodeSequenced(
  header: { readonly seq: number; readonly sentAtUs?: number },
  payload: Uint8Array | string = "",
): Buffer {
  const seq = checkInteger("seq", header.seq, 0, 0xffff_ffff);
  const sentAtUs = checkInteger(
    "sentAtUs",
    header.sentAtUs ?? nowMicros(),
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const size = payloadSize(payload);
  const datagram = Buffer.allocUnsafe(SEQUENCED_HEADER_BYTES + size);
  datagram[0] = MAGIC_0;
  datagram[1] = MAGIC_1;
  datagram[2] = VERSION;
  datagram[3] = 0;
  datagram.writeUInt32BE(seq, 4);
  // u64 as two u32 halves: no BigInt needed below 2⁵³.
  datagram.writeUInt32BE(Math.floor(sentAtUs / TWO_POW_32), 8);
  datagram.writeUInt32BE(sentAtUs % TWO_POW_32, 12);
  if (typeof payload === "string") datagram.write(payload, SEQUENCED_HEADER_BYTES, "utf8");
  else datagram.set(payload, SEQUENCED_HEADER_BYTES);
  return datagram;
}

/**
 * Reads a sequenced datagram.
 * @throws {SocketError} `ERR_INVALID_HEADER` naming what is wrong: too short, wrong magic,
 *   unknown version, or a send time beyond 2⁵³−1 µs.
 * @example
 * decodeSequenced(encodeSequenced({ seq: 7, sentAtUs: 42 }, "hi"))
 * //=> { seq: 7, sentAtUs: 42, payload: <Buffer 68 69> }
 */
export function decodeSequenced(datagram: Uint8Array): SequencedMessage {
  const view = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  let problem: string | undefined;
  if (view.length < SEQUENCED_HEADER_BYTES) {
    problem = `${view.length} bytes is shorter than the ${SEQUENCED_HEADER_BYTES}-byte header`;
  } else if (view[0] !== MAGIC_0 || view[1] !== MAGIC_1) {
    problem = "it does not start with 53 51 (SQ)";
  } else if (view[2] !== VERSION) {
    problem = `version ${view[2]} is not ${VERSION}`;
  } else if (view.readUInt32BE(8) >= 2 ** 21) {
    problem = "the send time is beyond 2^53 - 1 microseconds";
  }
  if (problem !== undefined) {
    throw new SocketError(ErrorCode.ERR_INVALID_HEADER, `not a sequenced datagram: ${problem}`, {
      hint: "Sequenced datagrams start with 53 51 01 and carry a 16-byte header; write them with encodeSequenced().",
    });
  }
  return {
    seq: view.readUInt32BE(4),
    sentAtUs: view.readUInt32BE(8) * TWO_POW_32 + view.readUInt32BE(12),
    payload: view.subarray(SEQUENCED_HEADER_BYTES),
  };
}
