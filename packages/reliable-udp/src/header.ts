/**
 * The segment header: 28 bytes, then up to four SACK ranges of 8 bytes, then (DATA only) one
 * message. Pure encode/decode, no socket inside.
 *
 * ```
 * offset  size  field
 * 0       2     magic 0x52 0x55 ("RU")
 * 2       1     version 0x01
 * 3       1     type: 1 SYN, 2 SYN_ACK, 3 ACK, 4 DATA, 5 FIN, 6 RST
 * 4       4     connection id, u32, chosen at random by the client, never 0
 * 8       4     sequence number, u32 (SYN, SYN_ACK: the initial one; DATA, FIN: the segment's)
 * 12      4     acknowledgement: the next sequence number expected from the peer, u32
 * 16      2     window: segments the sender can still take beyond the acknowledgement, u16
 * 18      1     SACK range count, 0–4
 * 19      1     flags: 0x00, or 0x10 (packed: a u16 payload length follows the SACK ranges,
 *               then another segment of the same connection); anything else is refused
 * 20      4     timestamp: the sender's clock when this datagram left, µs, u32 (wraps)
 * 24      4     timestamp echo: the timestamp of the peer's latest data segment, µs, u32
 * 28      8×n   SACK ranges: start (first held), end (one past the last held), u32 each
 * 28+8n   …     payload (DATA only)
 * ```
 *
 * A datagram carries one segment, or several DATA and FIN segments packed one after another.
 *
 * All integers are big-endian. Sequence numbers wrap at 2³²: compare them with
 * {@link unwrapSeq}, never with `<`.
 */

import { ErrorCode, SocketError } from "@socket-lab/core";
import { checkInteger, invalidArgValue, outOfRange } from "@socket-lab/core/internal";

/** Bytes of the header without SACK ranges. */
export const HEADER_BYTES = 28;
/** Bytes of one SACK range. */
export const SACK_RANGE_BYTES = 8;
/** Most SACK ranges one header carries. */
export const MAX_SACK_RANGES = 4;
/** Bytes of the largest header: 28 + 4 × 8. */
export const MAX_HEADER_BYTES = HEADER_BYTES + MAX_SACK_RANGES * SACK_RANGE_BYTES;
/** The header version this package writes and reads. */
export const HEADER_VERSION = 1;
/** Largest window a header can advertise, in segments. */
export const MAX_ADVERTISED_WINDOW = 0xffff;

const MAGIC_0 = 0x52; // "R"
const MAGIC_1 = 0x55; // "U"

/** What a segment is for. */
export const SegmentType = {
  /** Client → server: open a connection with this id; `seq` is the client's initial number. */
  SYN: 1,
  /** Server → client: accepted; `seq` is the server's initial number, `ack` the client's. */
  SYN_ACK: 2,
  /** Acknowledgement only: `ack`, `window`, SACK ranges. Never acknowledged itself. */
  ACK: 3,
  /** One message, numbered `seq`, with an acknowledgement riding along. */
  DATA: 4,
  /** No more messages from this side; takes one sequence number, after the last message. */
  FIN: 5,
  /** The connection is refused or aborted; the peer fails with ECONNRESET. */
  RST: 6,
} as const;

/** A segment type's number. */
export type SegmentType = (typeof SegmentType)[keyof typeof SegmentType];

const TYPE_NAMES: Record<number, string> = {
  1: "SYN",
  2: "SYN_ACK",
  3: "ACK",
  4: "DATA",
  5: "FIN",
  6: "RST",
};

/** A run of sequence numbers the receiver holds: from `start` up to, not including, `end`. */
export interface SackRange {
  readonly start: number;
  readonly end: number;
}

/** The fields of a segment header, as u32/u16 numbers on the wire. */
export interface SegmentHeader {
  readonly type: SegmentType;
  readonly connId: number;
  readonly seq: number;
  readonly ack: number;
  readonly window: number;
  /** Sender's clock, µs modulo 2³². */
  readonly timestamp: number;
  /** The peer's timestamp being echoed, µs modulo 2³²; 0 when there is none yet. */
  readonly echo: number;
  readonly sack: readonly SackRange[];
}

/** A decoded segment. */
export interface Segment extends SegmentHeader {
  /** The bytes after the header: a view into the datagram, not a copy. Empty unless DATA. */
  readonly payload: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** The header's size with `sackRanges` ranges, in bytes. */
export function headerBytes(sackRanges: number): number {
  return HEADER_BYTES + sackRanges * SACK_RANGE_BYTES;
}

/**
 * Flag: a 2-byte payload length follows the SACK ranges, and another segment follows this
 * one in the same datagram. Only DATA and FIN carry it; the last segment of a datagram never
 * does, so a datagram of one segment is the plain format.
 */
export const FLAG_PACKED = 0x10;
/** Bytes a packed segment adds for its payload length. */
export const PACKED_LENGTH_BYTES = 2;

/** One segment to encode. */
export interface OutgoingSegment {
  readonly header: SegmentHeader;
  readonly payload: Uint8Array;
}

/**
 * Writes a segment: header, SACK ranges, then `payload` (DATA only).
 * @throws {RangeError} naming the field: a number outside its width, more than 4 SACK ranges,
 *   connection id 0, or a payload on a segment that is not DATA.
 * @example
 * encodeSegment({ type: SegmentType.ACK, connId: 7, seq: 0, ack: 5, window: 64,
 *   timestamp: 0, echo: 0, sack: [] }).length
 * //=> 28
 */
export function encodeSegment(header: SegmentHeader, payload: Uint8Array = EMPTY): Buffer {
  return encodeSegments([{ header, payload }]);
}

/**
 * Writes several segments of one connection into one datagram, as KCP packs segments and
 * QUIC packs frames: every segment but the last is marked {@link FLAG_PACKED} and carries
 * its payload length. Only DATA and FIN segments may be packed with others.
 * @throws {RangeError} what {@link encodeSegment} throws; also for an empty list, mixed
 *   connection ids, or a segment other than DATA or FIN packed with others.
 */
export function encodeSegments(segments: readonly OutgoingSegment[]): Buffer {
  if (segments.length === 0) {
    throw invalidArgValue("segments argument", segments, "must hold at least one segment");
  }
  let size = 0;
  const last = segments.length - 1;
  segments.forEach(({ header, payload }, i) => {
    checkHeader(header, payload);
    if (last > 0 && header.type !== SegmentType.DATA && header.type !== SegmentType.FIN) {
      throw invalidArgValue(
        "segments argument",
        TYPE_NAMES[header.type],
        "may pack only DATA and FIN segments",
      );
    }
    if (header.connId !== (segments[0] as OutgoingSegment).header.connId) {
      throw invalidArgValue(
        "segments argument",
        header.connId,
        "must share a connection id when packed in one datagram",
      );
    }
    size += headerBytes(header.sack.length) + payload.length;
    if (i < last) size += PACKED_LENGTH_BYTES;
  });
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  segments.forEach(({ header, payload }, i) => {
    offset = writeSegment(out, offset, header, payload, i < last);
  });
  return out;
}

function checkHeader(header: SegmentHeader, payload: Uint8Array): void {
  if (header.sack.length > MAX_SACK_RANGES) {
    throw outOfRange("sack.length", `at most ${MAX_SACK_RANGES}`, header.sack.length);
  }
  if (TYPE_NAMES[header.type] === undefined) {
    throw outOfRange("type", "a SegmentType >= 1 && <= 6", header.type);
  }
  if (payload.length > 0 && header.type !== SegmentType.DATA) {
    throw invalidArgValue(
      "payload argument",
      payload,
      `must be empty on ${TYPE_NAMES[header.type]}: only DATA carries a payload`,
    );
  }
  checkU32("connId", header.connId, 1);
  checkU32("seq", header.seq);
  checkU32("ack", header.ack);
  checkU32("timestamp", header.timestamp);
  checkU32("echo", header.echo);
  checkInteger("window", header.window, 0, MAX_ADVERTISED_WINDOW);
  for (const range of header.sack) {
    checkU32("sack start", range.start);
    checkU32("sack end", range.end);
  }
}

/** Writes one checked segment at `offset`; returns the offset after it. */
function writeSegment(
  out: Buffer,
  offset: number,
  header: SegmentHeader,
  payload: Uint8Array,
  packed: boolean,
): number {
  const sack = header.sack;
  if (packed && payload.length > 0xffff) {
    throw outOfRange("payload.length", "<= 65535 when packed", payload.length);
  }
  out[offset] = MAGIC_0;
  out[offset + 1] = MAGIC_1;
  out[offset + 2] = HEADER_VERSION;
  out[offset + 3] = header.type;
  out.writeUInt32BE(header.connId, offset + 4);
  out.writeUInt32BE(header.seq, offset + 8);
  out.writeUInt32BE(header.ack, offset + 12);
  out.writeUInt16BE(header.window, offset + 16);
  out[offset + 18] = sack.length;
  out[offset + 19] = packed ? FLAG_PACKED : 0;
  out.writeUInt32BE(header.timestamp, offset + 20);
  out.writeUInt32BE(header.echo, offset + 24);
  let at = offset + HEADER_BYTES;
  for (const range of sack) {
    out.writeUInt32BE(range.start, at);
    out.writeUInt32BE(range.end, at + 4);
    at += SACK_RANGE_BYTES;
  }
  if (packed) {
    out.writeUInt16BE(payload.length, at);
    at += PACKED_LENGTH_BYTES;
  }
  if (payload.length > 0) out.set(payload, at);
  return at + payload.length;
}

/**
 * Reads a datagram of exactly one segment. The payload is a view into `data`.
 * @throws {SocketError} `ERR_INVALID_HEADER`, saying what is wrong: too short for its header
 *   or SACK ranges, wrong magic, unknown version or type, unknown flags, connection id 0, more
 *   than 4 SACK ranges, a payload on a segment that is not DATA, or more than one segment.
 *   Nothing else is thrown.
 * @example
 * decodeSegment(Buffer.from("hello"))
 * //=> throws SocketError [ERR_INVALID_HEADER]: invalid segment: 5 bytes, shorter than the 28-byte header
 */
export function decodeSegment(data: Uint8Array): Segment {
  const segments = decodeSegments(data);
  if (segments.length !== 1) throw invalid(`${segments.length} segments, expected one`);
  return segments[0] as Segment;
}

/**
 * Reads a datagram of one or more segments (see {@link encodeSegments}); payloads are views
 * into `data`. The whole datagram is refused if any part of it is malformed or the segments
 * carry different connection ids.
 * @throws {SocketError} `ERR_INVALID_HEADER`, as {@link decodeSegment}; nothing else.
 */
export function decodeSegments(data: Uint8Array): Segment[] {
  const buffer = Buffer.isBuffer(data)
    ? data
    : Buffer.from(data.buffer, data.byteOffset, data.length);
  const segments: Segment[] = [];
  let offset = 0;
  for (;;) {
    const { segment, end, packed } = readSegment(buffer, offset);
    if (segments.length > 0 && segment.connId !== (segments[0] as Segment).connId) {
      throw invalid("segments of different connections in one datagram");
    }
    segments.push(segment);
    if (!packed) return segments;
    offset = end;
  }
}

function readSegment(
  buffer: Buffer,
  offset: number,
): { segment: Segment; end: number; packed: boolean } {
  const length = buffer.length - offset;
  if (length < HEADER_BYTES) {
    throw invalid(`${length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  }
  if (buffer[offset] !== MAGIC_0 || buffer[offset + 1] !== MAGIC_1) {
    throw invalid("wrong magic, not a segment");
  }
  if (buffer[offset + 2] !== HEADER_VERSION) {
    throw invalid(`unsupported version ${buffer[offset + 2]}`);
  }
  const type = buffer[offset + 3] as number;
  if (TYPE_NAMES[type] === undefined) throw invalid(`unknown segment type ${type}`);
  const connId = buffer.readUInt32BE(offset + 4);
  if (connId === 0) throw invalid("connection id 0");
  const count = buffer[offset + 18] as number;
  if (count > MAX_SACK_RANGES) throw invalid(`${count} SACK ranges, more than ${MAX_SACK_RANGES}`);
  const flags = buffer[offset + 19] as number;
  const packed = flags === FLAG_PACKED;
  if (flags !== 0 && !packed) throw invalid(`unknown flags set (${flags})`);
  if (packed && type !== SegmentType.DATA && type !== SegmentType.FIN) {
    throw invalid(`${TYPE_NAMES[type]} packed with other segments`);
  }
  const size = headerBytes(count) + (packed ? PACKED_LENGTH_BYTES : 0);
  if (length < size) {
    throw invalid(`${length} bytes, shorter than a header with ${count} SACK ranges`);
  }
  const payloadBytes = packed ? buffer.readUInt16BE(offset + size - 2) : length - size;
  if (payloadBytes > length - size) throw invalid(`payload length ${payloadBytes} past the end`);
  if (payloadBytes > 0 && type !== SegmentType.DATA) {
    throw invalid(`${TYPE_NAMES[type]} with a payload`);
  }
  const sack: SackRange[] = [];
  for (let at = offset + HEADER_BYTES; at < offset + HEADER_BYTES + count * SACK_RANGE_BYTES; ) {
    sack.push({ start: buffer.readUInt32BE(at), end: buffer.readUInt32BE(at + 4) });
    at += SACK_RANGE_BYTES;
  }
  const end = offset + size + payloadBytes;
  return {
    segment: {
      type: type as SegmentType,
      connId,
      seq: buffer.readUInt32BE(offset + 8),
      ack: buffer.readUInt32BE(offset + 12),
      window: buffer.readUInt16BE(offset + 16),
      timestamp: buffer.readUInt32BE(offset + 20),
      echo: buffer.readUInt32BE(offset + 24),
      sack,
      payload: buffer.subarray(offset + size, end),
    },
    end,
    packed,
  };
}

/** The name of a segment type: `"DATA"`. */
export function segmentTypeName(type: SegmentType): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

/**
 * One line for a trace: `DATA seq=12 ack=7 win=64 sack=[14,16) 1024 bytes`. Numbers are shown
 * as on the wire.
 */
export function formatSegment(segment: SegmentHeader & { payload?: Uint8Array }): string {
  const parts = [segmentTypeName(segment.type)];
  if (segment.type !== SegmentType.ACK && segment.type !== SegmentType.RST) {
    parts.push(`seq=${segment.seq}`);
  }
  if (segment.type !== SegmentType.SYN && segment.type !== SegmentType.RST) {
    parts.push(`ack=${segment.ack}`, `win=${segment.window}`);
  }
  if (segment.sack.length > 0) {
    parts.push(`sack=${segment.sack.map((r) => `[${r.start},${r.end})`).join("")}`);
  }
  const bytes = segment.payload?.length ?? 0;
  if (segment.type === SegmentType.DATA) parts.push(`${bytes} ${bytes === 1 ? "byte" : "bytes"}`);
  return parts.join(" ");
}

/**
 * The sequence number `wire` as a plain count from `isn`, taken as the one nearest to
 * `near` (a count already known): the wire carries numbers modulo 2³², the connection counts
 * without wrapping. Works while the two are less than 2³¹ apart.
 * @example
 * unwrapSeq(3, 0xffff_fffe, 0) //=> 5
 */
export function unwrapSeq(wire: number, isn: number, near: number): number {
  return near + ((wire - isn - near) | 0);
}

/** A plain count from `isn` as the u32 it is on the wire. */
export function wrapSeq(count: number, isn: number): number {
  return (isn + count) >>> 0;
}

function checkU32(name: string, value: number, min = 0): number {
  return checkInteger(name, value, min, 0xffff_ffff);
}

function invalid(reason: string): SocketError {
  return new SocketError(ErrorCode.ERR_INVALID_HEADER, `invalid segment: ${reason}`, {
    hint: "Only @socket-lab/reliable-udp peers speak this header; other datagrams are dropped.",
  });
}
