import { inspect } from "node:util";
import { DEFAULT_MAX_FRAME_BYTES, ErrorCode, SocketError } from "@socket-lab/core";
import { describe, expect, it } from "vitest";
import { type LengthFramingOptions, lengthPrefixed, lengthPrefixedPieces } from "../src/index.js";

const hex = (text: string) => Buffer.from(text.replaceAll(" ", ""), "hex");

/** Every frame, as hex, from pushing `chunks` one by one, then `end()`. */
function decodeAll(chunks: Uint8Array[], options?: LengthFramingOptions): string[] {
  const decoder = lengthPrefixed(options).createDecoder();
  const frames: Buffer[] = [];
  for (const chunk of chunks) frames.push(...decoder.push(chunk));
  frames.push(...decoder.end());
  return frames.map((frame) => frame.toString("hex"));
}

/** The error `fn` throws; fails the test when it returns. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail("expected a throw");
}

function expectSocketError(fn: () => unknown, code: string): SocketError {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(SocketError);
  expect((error as SocketError).code).toBe(code);
  return error as SocketError;
}

const bytes0to255 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/**
 * What tokio-util's `LengthDelimitedCodec::new()` writes for each payload: a 4-byte big-endian
 * length of the payload alone (length_field_offset 0, length_field_length 4, length_adjustment
 * 0, num_skip 4), then the payload.
 */
const GOLDEN: [name: string, payload: Buffer, wire: string][] = [
  ["empty", Buffer.alloc(0), "00000000"],
  ["hello", Buffer.from("hello"), "00000005 68656c6c6f"],
  ["one zero byte", Buffer.alloc(1), "00000001 00"],
  ["256 bytes 00..ff", bytes0to255, `00000100 ${bytes0to255.toString("hex")}`],
  ["65,536 bytes", Buffer.alloc(65_536, 0xab), `00010000 ${"ab".repeat(65_536)}`],
  ["UTF-8 text", Buffer.from("héllo"), "00000006 68c3a96c6c6f"],
];

describe("lengthPrefixed(): golden vectors (tokio-util LengthDelimitedCodec defaults)", () => {
  const framing = lengthPrefixed();

  for (const [name, payload, wire] of GOLDEN) {
    it(`encodes and decodes ${name}`, () => {
      expect(framing.encode(payload).toString("hex")).toBe(wire.replaceAll(" ", ""));
      expect(framing.encodedLength(payload)).toBe(4 + payload.length);
      expect(decodeAll([hex(wire)])).toEqual([payload.toString("hex")]);
    });
  }

  it("decodes the golden frames back to back in one stream", () => {
    const stream = hex(GOLDEN.map(([, , wire]) => wire).join(""));
    expect(decodeAll([stream])).toEqual(GOLDEN.map(([, payload]) => payload.toString("hex")));
  });

  it("uses tokio-util's 8 MiB default limit, reported as maxBytes", () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(8 * 1024 * 1024);
    expect(framing.maxBytes).toBe(8_388_608);
    expect(framing.name).toBe("length");
  });

  it("accepts a frame of exactly 8 MiB and rejects 8 MiB + 1, on both sides", () => {
    const max = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES, 0x5a);
    const encoded = framing.encode(max);
    expect(encoded.subarray(0, 4).toString("hex")).toBe("00800000");
    expect(encoded.length).toBe(DEFAULT_MAX_FRAME_BYTES + 4);
    const [decoded] = framing.createDecoder().push(encoded);
    expect(decoded?.equals(max)).toBe(true);

    expectSocketError(
      () => framing.encodedLength(Buffer.alloc(DEFAULT_MAX_FRAME_BYTES + 1)),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expectSocketError(
      () => framing.createDecoder().push(hex("00800001")),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
  });
});

describe("lengthPrefixed(): headers over the limit", () => {
  it("rejects a 0xFFFFFFFF header as soon as its 4 bytes are known, holding nothing", () => {
    const decoder = lengthPrefixed().createDecoder();
    for (let i = 1; i <= 3; i++) {
      expect(decoder.push(Uint8Array.of(0xff))).toEqual([]);
      expect(decoder.bufferedBytes).toBe(i);
    }
    const error = expectSocketError(
      () => decoder.push(Uint8Array.of(0xff, 0x00, 0x00)),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expect(error.message).toBe(
      "frame header ffffffff announces 4,294,967,295 bytes, over the limit of 8,388,608 bytes",
    );
    expect(error.hint).toMatch(/maxFrameBytes.*same framing/);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("shows the header in hex, so text from a peer speaking lines is easy to spot", () => {
    const decoder = lengthPrefixed().createDecoder();
    const error = expectSocketError(
      () => decoder.push(Buffer.from("GET / HTTP/1.1\r\n")),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expect(error.message).toContain("frame header 47455420 announces 1,195,725,856 bytes");
  });

  it("buffers only the payload bytes that arrived, whatever length the header announces", () => {
    const decoder = lengthPrefixed().createDecoder();
    expect(decoder.push(hex("00800000 01"))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(1);
    expect(decoder.push(Buffer.alloc(1000))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(1001);
  });

  it("accepts exactly the limit and rejects the limit + 1 with a small maxFrameBytes", () => {
    const framing = lengthPrefixed({ maxFrameBytes: 3 });
    expect(framing.maxBytes).toBe(3);
    expect(decodeAll([hex("00000003 616263")], { maxFrameBytes: 3 })).toEqual(["616263"]);
    expectSocketError(() => framing.createDecoder().push(hex("00000004")), "ERR_FRAME_TOO_LARGE");
    expect(framing.encode(Buffer.from("abc")).toString("hex")).toBe("00000003616263");
    const error = expectSocketError(
      () => framing.encode(Buffer.from("abcd")),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expect(error.message).toBe("frame of 4 bytes exceeds the limit of 3 bytes");
  });

  it("accepts maxFrameBytes: 0, which allows only empty frames", () => {
    expect(decodeAll([hex("00000000 00000000")], { maxFrameBytes: 0 })).toEqual(["", ""]);
    expectSocketError(
      () => decodeAll([hex("00000001 00")], { maxFrameBytes: 0 }),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
  });
});

describe("lengthPrefixed(): decoding", () => {
  const stream = hex("00000003 616263 00000000 00000001 ff 00000000 00000005 68656c6c6f");
  const expected = ["616263", "", "ff", "", "68656c6c6f"];

  it("decodes a stream split at every byte position into two and three chunks", () => {
    for (let a = 0; a <= stream.length; a++) {
      expect(decodeAll([stream.subarray(0, a), stream.subarray(a)])).toEqual(expected);
      for (let b = a; b <= stream.length; b++) {
        const chunks = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        expect(decodeAll(chunks)).toEqual(expected);
      }
    }
  });

  it("decodes a stream pushed one byte at a time", () => {
    expect(decodeAll([...stream].map((byte) => Uint8Array.of(byte)))).toEqual(expected);
  });

  it("decodes frames that arrive in pieces of mixed sizes, big and small", () => {
    const framing = lengthPrefixed();
    const payloads = [100_000, 0, 3, 20_000].map((n) =>
      Buffer.from(Array.from({ length: n }, (_, i) => i % 251)),
    );
    const wire = Buffer.concat(payloads.map((payload) => framing.encode(payload)));
    const decoder = framing.createDecoder();
    const frames: Buffer[] = [];
    const sizes = [1, 700, 3, 5000, 511, 512, 4096, 2, 4095];
    for (let pos = 0, i = 0; pos < wire.length; i++) {
      const piece = wire.subarray(pos, pos + (sizes[i % sizes.length] ?? 1));
      pos += piece.length;
      frames.push(...decoder.push(piece));
      if (frames.length === 0 && pos > 4) expect(decoder.bufferedBytes).toBe(pos - 4);
    }
    expect(frames).toEqual(payloads);
  });

  it("returns many frames from one chunk in order", () => {
    const framing = lengthPrefixed();
    const payloads = Array.from({ length: 10_000 }, (_, i) => Buffer.from(`frame ${i}`));
    const chunk = Buffer.concat(payloads.map((payload) => framing.encode(payload)));
    const frames = framing.createDecoder().push(chunk);
    expect(frames.map(String)).toEqual(payloads.map(String));
  });

  it("accepts Uint8Array chunks that are views into a larger buffer", () => {
    const backing = Uint8Array.of(0xee, 0, 0, 0, 1, 0x2a, 0xee);
    expect(decodeAll([backing.subarray(1, 6)])).toEqual(["2a"]);
  });

  it("returns a frame inside one chunk as a view of it, and copies a frame split across chunks", () => {
    const decoder = lengthPrefixed().createDecoder();
    const chunk = hex("00000002 6869 00000002 6a");
    const [inside] = decoder.push(chunk);
    expect(inside?.buffer).toBe(chunk.buffer);
    expect(inside?.byteOffset).toBe(chunk.byteOffset + 4);

    const rest = hex("6b");
    const [split] = decoder.push(rest);
    chunk.fill(0);
    rest.fill(0);
    expect(split?.toString()).toBe("jk");
  });

  it("hands out frames that are Buffers in every way a caller can tell", () => {
    const [frame] = lengthPrefixed().createDecoder().push(hex("00000002 6869"));
    expect(Buffer.isBuffer(frame)).toBe(true);
    expect(frame).toBeInstanceOf(Buffer);
    expect(frame?.constructor).toBe(Buffer);
    expect(frame).toStrictEqual(Buffer.from("hi"));
    expect(frame?.toString()).toBe("hi");
    expect(frame?.readUInt16BE(0)).toBe(0x6869);
    expect(frame?.equals(Buffer.from("hi"))).toBe(true);
    expect(inspect(frame)).toBe("<Buffer 68 69>");
    expect(JSON.stringify(frame)).toBe('{"type":"Buffer","data":[104,105]}');
  });

  it("counts exactly the bytes held: header bytes until all 4 arrive, then payload bytes", () => {
    const decoder = lengthPrefixed().createDecoder();
    expect(decoder.bufferedBytes).toBe(0);
    decoder.push(hex("0000"));
    expect(decoder.bufferedBytes).toBe(2);
    decoder.push(hex("00"));
    expect(decoder.bufferedBytes).toBe(3);
    decoder.push(hex("05"));
    expect(decoder.bufferedBytes).toBe(0);
    decoder.push(hex("6865"));
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.push(hex("6c6c6f 0000"))).toEqual([Buffer.from("hello")]);
    expect(decoder.bufferedBytes).toBe(2);
  });
});

describe("lengthPrefixed(): end()", () => {
  it("returns nothing when the stream ended between frames", () => {
    const decoder = lengthPrefixed().createDecoder();
    expect(decoder.push(hex("00000000"))).toEqual([Buffer.alloc(0)]);
    expect(decoder.end()).toEqual([]);
    expect(lengthPrefixed().createDecoder().end()).toEqual([]);
  });

  it("throws ERR_FRAME_TRUNCATED inside a header", () => {
    const decoder = lengthPrefixed().createDecoder();
    decoder.push(hex("000000"));
    const error = expectSocketError(() => decoder.end(), ErrorCode.ERR_FRAME_TRUNCATED);
    expect(error.message).toBe("stream ended after 3 of the 4 bytes of a frame header");
    expect(error.hint).toContain("same framing");
  });

  it("throws ERR_FRAME_TRUNCATED inside a payload, also a payload of which nothing arrived", () => {
    const decoder = lengthPrefixed().createDecoder();
    decoder.push(hex("00000005 6865"));
    const error = expectSocketError(() => decoder.end(), ErrorCode.ERR_FRAME_TRUNCATED);
    expect(error.message).toBe("stream ended after 2 of the 5 bytes of a frame payload");

    const headerOnly = lengthPrefixed().createDecoder();
    headerOnly.push(hex("00000001"));
    expectSocketError(() => headerOnly.end(), ErrorCode.ERR_FRAME_TRUNCATED);
  });

  it("is spent after an error: every later push and end throws the same error", () => {
    const decoder = lengthPrefixed({ maxFrameBytes: 10 }).createDecoder();
    const first = thrownBy(() => decoder.push(hex("00000001 61 0000000b")));
    expect((first as SocketError).code).toBe(ErrorCode.ERR_FRAME_TOO_LARGE);
    expect(thrownBy(() => decoder.push(hex("00000000")))).toBe(first);
    expect(thrownBy(() => decoder.end())).toBe(first);

    const truncated = lengthPrefixed().createDecoder();
    truncated.push(hex("00"));
    const cut = thrownBy(() => truncated.end());
    expect(thrownBy(() => truncated.push(hex("000000 00")))).toBe(cut);
  });
});

describe("lengthPrefixed(): encoding", () => {
  const framing = lengthPrefixed();

  it("packs many frames into one buffer with encodedLength + encodeInto", () => {
    const frames = [Buffer.from("a"), Buffer.alloc(0), Buffer.from("bc")];
    const size = frames.reduce((sum, frame) => sum + framing.encodedLength(frame), 0);
    const packet = Buffer.alloc(size + 2, 0xee);
    let offset = 1;
    for (const frame of frames) offset = framing.encodeInto(frame, packet, offset);
    expect(offset).toBe(size + 1);
    expect(packet.toString("hex")).toBe(
      ["ee", "0000000161", "00000000", "000000026263", "ee"].join(""),
    );
  });

  it("accepts a plain Uint8Array and throws a TypeError for anything else", () => {
    expect(framing.encode(Uint8Array.of(1, 2) as Buffer).toString("hex")).toBe("000000020102");
    expect(() => framing.encode("text" as unknown as Buffer)).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_TYPE",
        message: `The "frame" argument must be an instance of Buffer or Uint8Array. Received type string ('text')`,
      }),
    );
  });
});

describe("lengthPrefixed(): options", () => {
  it("rejects bad options with TypeError or RangeError naming the option and value", () => {
    expect(() => lengthPrefixed({ maxFrameBytes: 2 ** 32 })).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "maxFrameBytes" is out of range. It must be an integer >= 0 && <= 4294967295. Received 4294967296',
      }),
    );
    expect(() => lengthPrefixed({ maxFrameBytes: -1 })).toThrow(RangeError);
    expect(() => lengthPrefixed({ maxFrameBytes: 0.5 })).toThrow(/"maxFrameBytes".*Received 0\.5$/);
    expect(() => lengthPrefixed({ maxFrameBytes: null as unknown as number })).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_TYPE",
        message: 'The "maxFrameBytes" option must be of type number. Received null',
      }),
    );
  });

  it("accepts the largest limit a 4-byte header can express, and undefined as the default", () => {
    expect(lengthPrefixed({ maxFrameBytes: 0xffff_ffff }).maxBytes).toBe(4_294_967_295);
    const decoder = lengthPrefixed({ maxFrameBytes: 0xffff_ffff }).createDecoder();
    expect(decoder.push(hex("ffffffff 00"))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(1);
    expect(lengthPrefixed({ maxFrameBytes: undefined }).maxBytes).toBe(DEFAULT_MAX_FRAME_BYTES);
  });
});

describe("lengthPrefixedPieces()", () => {
  const framing = () => lengthPrefixedPieces();

  it("writes the same bytes as lengthPrefixed() for the pieces' concatenation", () => {
    // A plain Uint8Array piece is accepted too, as lengthPrefixed() accepts one as a frame.
    const plain = new Uint8Array([0x6c]) as Buffer;
    const pieces = [Buffer.from("hel"), plain, Buffer.alloc(0), Buffer.from("o")];
    expect(framing().encode(pieces).toString("hex")).toBe("0000000568656c6c6f");
    expect(framing().encode([]).toString("hex")).toBe("00000000");
    expect(framing().encodedLength(pieces)).toBe(9);
  });

  it("hands a frame inside one chunk over as one view of it, and an empty frame as []", () => {
    const chunk = hex("00000002 abcd 00000000");
    const [frame, empty] = framing().createDecoder().push(chunk);
    expect(frame).toHaveLength(1);
    expect(frame?.[0]?.buffer).toBe(chunk.buffer);
    expect(frame?.[0]?.toString("hex")).toBe("abcd");
    expect(empty).toEqual([]);
  });

  it("hands a frame split across chunks over as views of them, without joining them", () => {
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const wire = lengthPrefixed().encode(payload);
    const chunks = [wire.subarray(0, 1000), wire.subarray(1000, 2000), wire.subarray(2000)];
    const decoder = framing().createDecoder();
    const frames = chunks.flatMap((chunk) => decoder.push(chunk));
    expect(frames).toHaveLength(1);
    const pieces = frames[0] as Buffer[];
    expect(pieces.map((piece) => piece.length)).toEqual([996, 1000, 1004]);
    pieces.forEach((piece, i) => {
      expect(piece.buffer).toBe(chunks[i]?.buffer);
    });
    expect(Buffer.concat(pieces).equals(payload)).toBe(true);
  });

  it("decodes a stream cut at every byte position to the same payloads as lengthPrefixed()", () => {
    const payloads = [
      Buffer.from("first"),
      Buffer.alloc(0),
      Buffer.alloc(700, 7),
      Buffer.from("x"),
    ];
    const wire = Buffer.concat(payloads.map((payload) => lengthPrefixed().encode(payload)));
    for (let cut = 0; cut <= wire.length; cut++) {
      const decoder = framing().createDecoder();
      const frames = [...decoder.push(wire.subarray(0, cut)), ...decoder.push(wire.subarray(cut))];
      expect(decoder.end()).toEqual([]);
      expect(frames.map((pieces) => Buffer.concat(pieces).toString("hex"))).toEqual(
        payloads.map((payload) => payload.toString("hex")),
      );
      expect(frames.every((pieces) => pieces.every((piece) => piece.length > 0))).toBe(true);
    }
  });

  it("rejects what is not an array of Uint8Arrays with a TypeError, and too many bytes as too large", () => {
    expect(() => framing().encodedLength(Buffer.from("x") as never)).toThrow(
      /^The "frame" argument must be an array of Buffers or Uint8Arrays. Received an instance of Buffer$/,
    );
    expect(() => framing().encodedLength(["x"] as never)).toThrow(
      /^The "frame.piece" property must be an instance of Buffer or Uint8Array. Received type string \('x'\)$/,
    );
    const small = lengthPrefixedPieces({ maxFrameBytes: 4 });
    expect(small.encodedLength([Buffer.alloc(2), Buffer.alloc(2)])).toBe(8);
    expectSocketError(
      () => small.encodedLength([Buffer.alloc(2), Buffer.alloc(3)]),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
    expectSocketError(
      () => small.createDecoder().push(hex("00000005")),
      ErrorCode.ERR_FRAME_TOO_LARGE,
    );
  });
});
