/**
 * The request/response header: 8 bytes in front of every request and reply payload.
 *
 * ```
 * offset  size  field
 * 0       2     magic 0x53 0x4c ("SL")
 * 2       1     version 0x01
 * 3       1     type: 0x01 request, 0x02 reply
 * 4       4     request id, u32 big-endian; a reply carries its request's id
 * 8       …     payload
 * ```
 */

import { ErrorCode, SocketError } from "@socket-lab/core";
import { checkInteger, checkOneOf } from "@socket-lab/core/internal";
import { payloadSize } from "./internal/options.js";

/** Bytes of the request/reply header in front of the payload. */
export const REQUEST_HEADER_BYTES = 8;

const MAGIC_0 = 0x53; // "S"
const MAGIC_1 = 0x4c; // "L"
const VERSION = 1;
const TYPE_REQUEST = 1;
const TYPE_REPLY = 2;

/** Whether a datagram asks (`request`) or answers (`reply`). */
export type RequestKind = "request" | "reply";

/** The fields of the header. */
export interface RequestHeader {
  readonly kind: RequestKind;
  /** Request id, an integer from 0 to 2³²−1. */
  readonly id: number;
}

/** A decoded request or reply datagram. */
export interface RequestFrame extends RequestHeader {
  /** The bytes after the header: a view into the datagram, not a copy. */
  readonly payload: Buffer;
}

/**
 * Puts the 8-byte header in front of `payload` (a string is written as UTF-8).
 * @throws {RangeError} for an id that is not an integer from 0 to 2³²−1; {TypeError} for a
 *   kind that is not "request" or "reply".
 * @example
 * encodeRequestFrame({ kind: "request", id: 1 }, "ping").toString("hex")
 * //=> "534c01010000000170696e67"
 */
export function encodeRequestFrame(
  header: RequestHeader,
  payload: Uint8Array | string = "",
): Buffer {
  const { kind, id } = header;
  checkOneOf("header.kind", kind, ["request", "reply"]);
  checkInteger("id", id, 0, 0xffff_ffff);
  const size = payloadSize(payload);
  const frame = Buffer.allocUnsafe(REQUEST_HEADER_BYTES + size);
  frame[0] = MAGIC_0;
  frame[1] = MAGIC_1;
  frame[2] = VERSION;
  frame[3] = kind === "request" ? TYPE_REQUEST : TYPE_REPLY;
  frame.writeUInt32BE(id, 4);
  if (typeof payload === "string") frame.write(payload, REQUEST_HEADER_BYTES, "utf8");
  else frame.set(payload, REQUEST_HEADER_BYTES);
  return frame;
}

/**
 * Reads the header of a request or reply datagram.
 * @throws {SocketError} `ERR_INVALID_HEADER` naming what is wrong: too short, wrong magic,
 *   unknown version or type.
 * @example
 * decodeRequestFrame(Buffer.from("534c0102000000017069", "hex"))
 * //=> { kind: "reply", id: 1, payload: <Buffer 70 69> }
 */
export function decodeRequestFrame(datagram: Uint8Array): RequestFrame {
  const problem = _requestFrameProblem(datagram);
  if (problem !== undefined) {
    throw new SocketError(ErrorCode.ERR_INVALID_HEADER, `not a socket-lab request: ${problem}`, {
      hint: "Request and reply datagrams start with 53 4c 01, then 01 (request) or 02 (reply) and a 4-byte id.",
    });
  }
  return _readRequestFrame(datagram);
}

/** The frame, or `undefined` when the datagram is not in the header format. */
export function tryDecodeRequestFrame(datagram: Uint8Array): RequestFrame | undefined {
  return _requestFrameProblem(datagram) === undefined ? _readRequestFrame(datagram) : undefined;
}

function _requestFrameProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < REQUEST_HEADER_BYTES) {
    return `${bytes.length} bytes is shorter than the ${REQUEST_HEADER_BYTES}-byte header`;
  }
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return "it does not start with 53 4c (SL)";
  if (bytes[2] !== VERSION) return `version ${bytes[2]} is not ${VERSION}`;
  if (bytes[3] !== TYPE_REQUEST && bytes[3] !== TYPE_REPLY) {
    return `type ${bytes[3]} is neither 1 (request) nor 2 (reply)`;
  }
  return undefined;
}

function _readRequestFrame(bytes: Uint8Array): RequestFrame {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    kind: view[3] === TYPE_REQUEST ? "request" : "reply",
    id: view.readUInt32BE(4),
    payload: view.subarray(REQUEST_HEADER_BYTES),
  };
}
