import { ErrorCode, SocketError } from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  decodeSegment,
  decodeSegments,
  encodeSegment,
  encodeSegments,
  FLAG_PACKED,
  formatSegment,
  HEADER_BYTES,
  MAX_HEADER_BYTES,
  type SegmentHeader,
  SegmentType,
  unwrapSeq,
  wrapSeq,
} from "../src/header.js";

const base: SegmentHeader = {
  type: SegmentType.DATA,
  connId: 0xdead_beef,
  seq: 0xffff_ffff,
  ack: 7,
  window: 256,
  timestamp: 123_456,
  echo: 42,
  sack: [
    { start: 9, end: 11 },
    { start: 13, end: 14 },
  ],
};

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const headers = fc.record({
  type: fc.constantFrom(...Object.values(SegmentType)),
  connId: fc.integer({ min: 1, max: 0xffff_ffff }),
  seq: u32,
  ack: u32,
  window: fc.integer({ min: 0, max: 0xffff }),
  timestamp: u32,
  echo: u32,
  sack: fc.array(fc.record({ start: u32, end: u32 }), { maxLength: 4 }),
});

function invalid(data: Uint8Array): string {
  try {
    decodeSegment(data);
  } catch (error) {
    expect(error).toBeInstanceOf(SocketError);
    expect((error as SocketError).code).toBe(ErrorCode.ERR_INVALID_HEADER);
    return (error as SocketError).message;
  }
  throw new Error("decoded");
}

describe("encodeSegment / decodeSegment", () => {
  test("round-trips every field, SACK ranges and the payload", () => {
    const datagram = encodeSegment(base, Buffer.from("hello"));
    expect(datagram.length).toBe(HEADER_BYTES + 2 * 8 + 5);
    expect(datagram.subarray(0, 4).toString("hex")).toBe("52550104");
    const segment = decodeSegment(datagram);
    expect({ ...segment, payload: segment.payload.toString() }).toEqual({
      ...base,
      payload: "hello",
    });
  });

  test("property: any header round-trips", () => {
    fc.assert(
      fc.property(headers, fc.uint8Array({ maxLength: 64 }), (header, bytes) => {
        const payload = header.type === SegmentType.DATA ? bytes : new Uint8Array(0);
        const segment = decodeSegment(encodeSegment(header, payload));
        expect({ ...segment, payload: [...segment.payload] }).toEqual({
          ...header,
          payload: [...payload],
        });
      }),
    );
  });

  test("fuzz: random bytes decode to a segment or throw ERR_INVALID_HEADER, nothing else", () => {
    const prefixed = fc
      .tuple(fc.uint8Array({ maxLength: 80 }), fc.nat(6))
      .map(([bytes, type]) => Uint8Array.from([0x52, 0x55, 1, type, ...bytes]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), prefixed), (bytes) => {
        try {
          const segment = decodeSegment(bytes);
          expect(segment.sack.length).toBeLessThanOrEqual(4);
          expect(segment.connId).not.toBe(0);
        } catch (error) {
          if (!(error instanceof SocketError) || error.code !== ErrorCode.ERR_INVALID_HEADER)
            throw error;
        }
      }),
      { numRuns: 2_000 },
    );
  });

  test("refuses truncated headers, at every length short of the header and its ranges", () => {
    const datagram = encodeSegment({ ...base, type: SegmentType.ACK });
    for (let length = 0; length < datagram.length; length++) {
      expect(invalid(datagram.subarray(0, length))).toMatch(/shorter than/);
    }
  });

  test("refuses wrong magic, version, type, flags, connection id 0, too many ranges, stray payload", () => {
    const good = encodeSegment({ ...base, type: SegmentType.ACK, sack: [] });
    const patched = (offset: number, value: number) => {
      const copy = Buffer.from(good);
      copy[offset] = value;
      return copy;
    };
    expect(invalid(patched(0, 0x53))).toMatch(/magic/);
    expect(invalid(patched(2, 2))).toMatch(/version 2/);
    expect(invalid(patched(3, 9))).toMatch(/type 9/);
    expect(invalid(patched(19, 1))).toMatch(/flags/);
    expect(invalid(patched(18, 5))).toMatch(/5 SACK ranges/);
    const zero = Buffer.from(good);
    zero.writeUInt32BE(0, 4);
    expect(invalid(zero)).toMatch(/connection id 0/);
    expect(invalid(Buffer.concat([good, Buffer.from("x")]))).toMatch(/ACK with a payload/);
  });

  test("encode refuses what decode would refuse", () => {
    expect(() => encodeSegment({ ...base, connId: 0 })).toThrow(RangeError);
    expect(() => encodeSegment({ ...base, window: 70_000 })).toThrow(/window/);
    expect(() => encodeSegment({ ...base, seq: -1 })).toThrow(/seq/);
    expect(() => encodeSegment({ ...base, sack: Array(5).fill({ start: 1, end: 2 }) })).toThrow(
      /at most 4/,
    );
    expect(() => encodeSegment({ ...base, type: SegmentType.ACK }, Buffer.from("x"))).toThrow(
      /only DATA/,
    );
    expect(MAX_HEADER_BYTES).toBe(60);
  });

  test("packs several DATA and FIN segments into one datagram and reads them back", () => {
    const parts = [
      { header: base, payload: Buffer.from("one") },
      { header: { ...base, seq: 0, sack: [] }, payload: Buffer.alloc(0) },
      { header: { ...base, seq: 1, type: SegmentType.FIN, sack: [] }, payload: Buffer.alloc(0) },
    ];
    const datagram = encodeSegments(parts);
    // Every segment but the last carries the flag and a 2-byte length.
    expect(datagram.length).toBe(HEADER_BYTES + 16 + 2 + 3 + HEADER_BYTES + 2 + HEADER_BYTES);
    expect(datagram[19]).toBe(FLAG_PACKED);
    const segments = decodeSegments(datagram);
    expect(segments.map((s) => [s.type, s.seq, s.payload.toString(), s.sack.length])).toEqual([
      [SegmentType.DATA, base.seq, "one", 2],
      [SegmentType.DATA, 0, "", 0],
      [SegmentType.FIN, 1, "", 0],
    ]);
    // One segment is the plain format; decodeSegment refuses a packed datagram.
    expect(encodeSegments([parts[0] as (typeof parts)[0]])).toEqual(
      encodeSegment(base, Buffer.from("one")),
    );
    expect(invalid(datagram)).toMatch(/3 segments, expected one/);
  });

  test("refuses a packed datagram that is cut, mixes connections or packs control segments", () => {
    const two = encodeSegments([
      { header: base, payload: Buffer.from("abc") },
      { header: { ...base, sack: [] }, payload: Buffer.from("de") },
    ]);
    const refused = (data: Uint8Array): string => {
      try {
        decodeSegments(data);
      } catch (error) {
        expect((error as SocketError).code).toBe(ErrorCode.ERR_INVALID_HEADER);
        return (error as SocketError).message;
      }
      throw new Error("decoded");
    };
    // Cut anywhere inside: a length past the end, or a missing next segment.
    for (let length = 0; length < two.length - 2; length++) {
      expect(refused(two.subarray(0, length))).toMatch(/shorter than|past the end/);
    }
    const mixed = Buffer.from(two);
    mixed.writeUInt32BE(7, HEADER_BYTES + 16 + 2 + 3 + 4);
    expect(refused(mixed)).toMatch(/different connections/);
    const ack = Buffer.from(two);
    ack[3] = SegmentType.ACK;
    expect(refused(ack)).toMatch(/ACK packed/);
    expect(() =>
      encodeSegments([
        { header: { ...base, type: SegmentType.ACK }, payload: Buffer.alloc(0) },
        { header: base, payload: Buffer.alloc(0) },
      ]),
    ).toThrow(/only DATA and FIN/);
    expect(() =>
      encodeSegments([
        { header: base, payload: Buffer.alloc(0) },
        { header: { ...base, connId: 9 }, payload: Buffer.alloc(0) },
      ]),
    ).toThrow(/connection id/);
  });

  test("formatSegment prints what a trace shows", () => {
    expect(formatSegment({ ...base, payload: Buffer.alloc(3) })).toBe(
      "DATA seq=4294967295 ack=7 win=256 sack=[9,11)[13,14) 3 bytes",
    );
    expect(formatSegment({ ...base, type: SegmentType.SYN, sack: [] })).toBe("SYN seq=4294967295");
  });
});

describe("sequence numbers", () => {
  test("unwrapSeq undoes wrapSeq across the 2³² wrap, near the reference", () => {
    const isn = 0xffff_fffe;
    expect(wrapSeq(5, isn)).toBe(3);
    expect(unwrapSeq(3, isn, 0)).toBe(5);
    fc.assert(
      fc.property(
        u32,
        fc.nat(2 ** 40),
        fc.integer({ min: -(2 ** 30), max: 2 ** 30 }),
        (isn, near, delta) => {
          const count = Math.max(0, near + delta);
          expect(unwrapSeq(wrapSeq(count, isn), isn, near)).toBe(count);
        },
      ),
    );
  });
});
