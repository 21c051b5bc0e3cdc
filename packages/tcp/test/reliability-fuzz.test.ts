/**
 * Fuzzing both decoders the way a network delivers bytes: any bytes, cut anywhere, must decode
 * exactly as the same bytes pushed whole (the same messages, or the same framing error), with
 * the decoder never holding more than its limit and never throwing anything but a framing
 * SocketError; and any valid messages, encoded and cut anywhere, must come back unchanged.
 * framing-properties.test.ts checks the decoders against reference parsers (125,000 cases);
 * these are the properties `pnpm fuzz` runs for as long as it is told.
 *
 * `pnpm fuzz` sets SOCKET_LAB_FUZZ_RUNS (cases per property) and SOCKET_LAB_FUZZ_SEED (see
 * RELIABILITY.md). A normal test run does 5,000 each.
 */

import { ErrorCode, SocketError } from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Framing, lengthPrefixed, lines } from "../src/index.js";

const runs = Number(process.env.SOCKET_LAB_FUZZ_RUNS ?? 5_000);
const seed = process.env.SOCKET_LAB_FUZZ_SEED;
const parameters = { numRuns: runs, ...(seed === undefined ? {} : { seed: Number(seed) }) };

const FRAMING_CODES: readonly string[] = [
  ErrorCode.ERR_FRAME_TOO_LARGE,
  ErrorCode.ERR_FRAME_TRUNCATED,
  ErrorCode.ERR_INVALID_UTF8,
];

/** The framings under test, with small limits so that the limits are hit often. */
const FRAMINGS = [
  { name: "lines", make: (max: number) => lines({ maxLineBytes: max }) },
  {
    name: "lines (reject)",
    make: (max: number) => lines({ maxLineBytes: max, invalidUtf8: "reject" }),
  },
  { name: "length", make: (max: number) => lengthPrefixed({ maxFrameBytes: max }) },
] as const;

/** Cuts `stream` at the given points (taken modulo its length; repeats give empty chunks). */
function cut(stream: Uint8Array, points: number[]): Uint8Array[] {
  const at = points.map((p) => p % (stream.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of at) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  chunks.push(stream.subarray(start));
  return chunks;
}

/** Messages (as hex for frames) or the framing error code; checks the bound after every push. */
function decode(framing: Framing<unknown>, chunks: Uint8Array[]): unknown {
  const decoder = framing.createDecoder();
  const limit = framing.name === "lines" ? framing.maxBytes + 1 : Math.max(framing.maxBytes - 1, 3);
  const messages: unknown[] = [];
  try {
    for (const chunk of chunks) {
      messages.push(...decoder.push(chunk));
      if (decoder.bufferedBytes > limit)
        throw new Error(`holds ${decoder.bufferedBytes} > ${limit}`);
    }
    messages.push(...decoder.end());
  } catch (error) {
    if (error instanceof SocketError && FRAMING_CODES.includes(error.code)) return error.code;
    throw error;
  }
  return messages.map((m) => (Buffer.isBuffer(m) ? m.toString("hex") : m));
}

/** Bytes that matter to either framing (ends of line, UTF-8 pieces, small length headers), or any. */
const interestingByte = fc.oneof(
  fc.constantFrom(0x00, 0x0a, 0x0d, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0xff, 0x61),
  fc.integer({ min: 0, max: 255 }),
);

const stream = fc.oneof(
  fc.uint8Array({ maxLength: 96 }),
  fc.array(interestingByte, { maxLength: 96 }).map((bytes) => Uint8Array.from(bytes)),
);

describe.each(FRAMINGS)("$name decoder, fuzzed", ({ make }) => {
  it("any bytes, cut anywhere, decode as the same bytes pushed whole; only framing errors", () => {
    fc.assert(
      fc.property(
        stream,
        fc.array(fc.nat(), { maxLength: 16 }),
        fc.integer({ min: 0, max: 40 }),
        (bytes, points, max) => {
          const framing = make(max) as Framing<unknown>;
          expect(decode(framing, cut(bytes, points))).toEqual(decode(framing, [bytes]));
        },
      ),
      parameters,
    );
  });
});

describe("valid messages, fuzzed", () => {
  it("lines: encoded and cut anywhere, come back unchanged", () => {
    const framing = lines({ maxLineBytes: 256 });
    const line = fc
      .string({ unit: "binary", maxLength: 40 })
      .map((text) => text.replaceAll("\n", " ").replace(/\r$/, "."));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.array(fc.nat()), (messages, points) => {
        const wire = Buffer.concat(messages.map((m) => framing.encode(m)));
        expect(decode(framing as Framing<unknown>, cut(wire, points))).toEqual(messages);
      }),
      parameters,
    );
  });

  it("length: encoded and cut anywhere, come back unchanged", () => {
    const framing = lengthPrefixed({ maxFrameBytes: 256 });
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.array(fc.nat()),
        (payloads, points) => {
          const wire = Buffer.concat(payloads.map((p) => framing.encode(Buffer.from(p))));
          expect(decode(framing as Framing<unknown>, cut(wire, points))).toEqual(
            payloads.map((p) => Buffer.from(p).toString("hex")),
          );
        },
      ),
      parameters,
    );
  });
});
