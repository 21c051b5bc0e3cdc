/**
 * Properties of both framings, checked on many generated cases (fast-check prints the seed and
 * the shrunk case of any failure, so it can be replayed):
 * - any valid messages, encoded and split anywhere, decode to the same messages;
 * - any bytes, split anywhere, give exactly what a plain whole-stream reference parser gives:
 *   the same messages, or the same framing error, never another kind of throw;
 * - a decoder never holds more than its limit (+ 1 for a line's `\r` waiting for its `\n`;
 *   or the first 3 bytes of a length header).
 */

import { ErrorCode, SocketError } from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Framing, lengthPrefixed, lengthPrefixedPieces, lines } from "../src/index.js";

/** How to cut a stream into the chunks a socket might deliver. */
type Split = "whole" | "bytes" | number[];

const splitArb: fc.Arbitrary<Split> = fc.oneof(
  fc.constant("whole" as const),
  fc.constant("bytes" as const),
  fc.array(fc.nat(), { maxLength: 12, size: "max" }),
);

function cut(stream: Uint8Array, split: Split): Uint8Array[] {
  if (split === "whole") return [stream];
  if (split === "bytes") return Array.from(stream, (_, i) => stream.subarray(i, i + 1));
  // Cut points may repeat or fall at either end: empty chunks are pushed too.
  const points = split.map((n) => n % (stream.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(stream.subarray(start, point));
    start = point;
  }
  chunks.push(stream.subarray(start));
  return chunks;
}

type Outcome<M> = { messages: M[] } | { error: string };

const FRAMING_CODES: string[] = [
  ErrorCode.ERR_FRAME_TOO_LARGE,
  ErrorCode.ERR_FRAME_TRUNCATED,
  ErrorCode.ERR_INVALID_UTF8,
];

/**
 * The most a decoder may hold: a line and the `\r` that may precede its `\n`; less than one
 * frame payload, or the first 3 bytes of a header.
 */
function holdLimit(framing: Framing<unknown>): number {
  return framing.name === "lines" ? framing.maxBytes + 1 : Math.max(framing.maxBytes - 1, 3);
}

/**
 * Pushes every chunk then ends, checking the bound on `bufferedBytes` after each push. A throw
 * must be a SocketError with a framing code; anything else fails the property.
 */
function decodeChunks<M>(framing: Framing<M>, chunks: Uint8Array[]): Outcome<M> {
  const decoder = framing.createDecoder();
  const limit = holdLimit(framing);
  const messages: M[] = [];
  try {
    for (const chunk of chunks) {
      messages.push(...decoder.push(chunk));
      if (decoder.bufferedBytes > limit) {
        throw new Error(`bufferedBytes ${decoder.bufferedBytes} is over ${limit}`);
      }
    }
    messages.push(...decoder.end());
  } catch (error) {
    if (!(error instanceof SocketError) || !FRAMING_CODES.includes(error.code)) throw error;
    return { error: error.code };
  }
  return { messages };
}

/** Packs messages into one buffer the way a sender does: encodedLength, then encodeInto. */
function pack<M>(framing: Framing<M>, messages: M[]): Buffer {
  const size = messages.reduce((sum, message) => sum + framing.encodedLength(message), 0);
  const packet = Buffer.alloc(size);
  let offset = 0;
  for (const message of messages) offset = framing.encodeInto(message, packet, offset);
  expect(offset).toBe(size);
  expect(packet.equals(Buffer.concat(messages.map((message) => framing.encode(message))))).toBe(
    true,
  );
  return packet;
}

/** The lines in `bytes`, read whole and plainly: the specification the decoder must meet. */
function referenceLines(bytes: Uint8Array, max: number, reject: boolean): Outcome<string> {
  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
  const messages: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    const lf = bytes.indexOf(0x0a, start);
    let end = lf === -1 ? bytes.length : lf;
    if (lf !== -1 && end > start && bytes[end - 1] === 0x0d) end--;
    const line = bytes.subarray(start, end);
    if (line.length > max) return { error: ErrorCode.ERR_FRAME_TOO_LARGE };
    if (reject) {
      try {
        strict.decode(line);
      } catch {
        return { error: ErrorCode.ERR_INVALID_UTF8 };
      }
    }
    messages.push(lenient.decode(line));
    start = lf === -1 ? bytes.length : lf + 1;
  }
  return { messages };
}

/** The frames in `bytes`, read whole and plainly. */
function referenceFrames(bytes: Uint8Array, max: number): Outcome<string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const messages: string[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < 4) return { error: ErrorCode.ERR_FRAME_TRUNCATED };
    const length = view.getUint32(pos);
    if (length > max) return { error: ErrorCode.ERR_FRAME_TOO_LARGE };
    if (bytes.length - pos - 4 < length) return { error: ErrorCode.ERR_FRAME_TRUNCATED };
    messages.push(Buffer.from(bytes.subarray(pos + 4, pos + 4 + length)).toString("hex"));
    pos += 4 + length;
  }
  return { messages };
}

/** `length` pseudo-random bytes from `seed`: long payloads without generating each byte. */
function noise(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = seed | 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

const asHex = (outcome: Outcome<Buffer>): Outcome<string> =>
  "error" in outcome ? outcome : { messages: outcome.messages.map((m) => m.toString("hex")) };

/** Characters that matter to line framing, then any code point. */
const lineChar = fc.oneof(
  fc.constantFrom("a", " ", "\r", "\t", "\0", "é", "€", "𝄞", "\uFEFF", "\uFFFD"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);

/** Lines `encode` accepts: no `\n` (a `\r` anywhere, the end too); at most 4 bytes per character. */
const validLine = (maxLength: number) =>
  fc.string({ unit: lineChar, maxLength, size: "max" }).map((line) => line.replaceAll("\n", ""));

/** Bytes that matter to line framing (ends of line, UTF-8 lead and continuation bytes), then any. */
const lineByte = fc.oneof(
  { arbitrary: fc.constantFrom(0x0a, 0x0d), weight: 1 },
  {
    arbitrary: fc.constantFrom(0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9d, 0x80, 0xff, 0xef),
    weight: 2,
  },
  { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 },
);

/** Streams that are mostly well-formed length frames, with garbage mixed in. */
const frameStream = fc
  .array(
    fc.oneof(
      {
        arbitrary: fc
          .uint8Array({ maxLength: 24, size: "max" })
          .map((payload) => lengthPrefixed().encode(Buffer.from(payload))),
        weight: 6,
      },
      { arbitrary: fc.uint8Array({ max: 2, maxLength: 5 }), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 4 }), weight: 1 },
    ),
    { maxLength: 6 },
  )
  .map((parts) => new Uint8Array(Buffer.concat(parts)));

/** Up to 8 frame payloads of up to 40 bytes (the limit the length tests set). */
const payloadsArb = fc.array(fc.uint8Array({ maxLength: 40, size: "max" }), { maxLength: 8 });

describe("framing properties", () => {
  it("lines: valid lines, packed and split anywhere, decode to the same lines", () => {
    fc.assert(
      fc.property(
        fc.array(validLine(16), { maxLength: 8 }),
        fc.constantFrom("replace", "reject") as fc.Arbitrary<"replace" | "reject">,
        splitArb,
        (messages, invalidUtf8, split) => {
          const framing = lines({ maxLineBytes: 64, invalidUtf8 });
          const chunks = cut(pack(framing, messages), split);
          expect(decodeChunks(framing, chunks)).toEqual({ messages });
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("length: valid frames, packed and split anywhere, decode to the same frames", () => {
    fc.assert(
      fc.property(payloadsArb, splitArb, (payloads, split) => {
        const framing = lengthPrefixed({ maxFrameBytes: 40 });
        const frames = payloads.map((payload) => Buffer.from(payload));
        const chunks = cut(pack(framing, frames), split);
        expect(asHex(decodeChunks(framing, chunks))).toEqual({
          messages: frames.map((frame) => frame.toString("hex")),
        });
      }),
      { numRuns: 20_000 },
    );
  });

  it("length pieces: valid frames, packed and split anywhere, decode to pieces of the same frames", () => {
    fc.assert(
      fc.property(payloadsArb, splitArb, (payloads, split) => {
        const framing = lengthPrefixedPieces({ maxFrameBytes: 40 });
        const frames = payloads.map((payload) => [Buffer.from(payload)]);
        const chunks = cut(pack(framing, frames), split);
        const decoded = decodeChunks(framing, chunks);
        expect(decoded).not.toHaveProperty("error");
        const messages = "messages" in decoded ? decoded.messages : [];
        expect(messages.map((pieces) => Buffer.concat(pieces).toString("hex"))).toEqual(
          payloads.map((payload) => Buffer.from(payload).toString("hex")),
        );
        expect(messages.flat().every((piece) => piece.length > 0)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it("both: long messages, split anywhere, decode to the same messages", () => {
    const text = lines();
    const binary = lengthPrefixed();
    fc.assert(
      fc.property(
        // Long lines, cheaply: a short valid line repeated.
        fc.array(
          fc.tuple(validLine(16), fc.nat({ max: 400 })).map(([line, times]) => line.repeat(times)),
          { maxLength: 3 },
        ),
        fc.array(
          fc.tuple(fc.nat({ max: 6000 }), fc.nat()).map(([length, seed]) => noise(length, seed)),
          { maxLength: 3 },
        ),
        // Cut points in close pairs, so small pieces sit between big ones.
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 600 })), {
          maxLength: 20,
          size: "max",
        }),
        (messages, payloads, pairs) => {
          const cuts = pairs.flatMap(([at, gap]) => [at, at + gap]);
          expect(decodeChunks(text, cut(pack(text, messages), cuts))).toEqual({ messages });
          expect(asHex(decodeChunks(binary, cut(pack(binary, payloads), cuts)))).toEqual({
            messages: payloads.map((payload) => payload.toString("hex")),
          });
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it("lines: any bytes, split anywhere, give what the whole-stream reference gives", () => {
    fc.assert(
      fc.property(
        fc.array(lineByte, { maxLength: 48, size: "max" }),
        fc.integer({ min: 0, max: 24 }),
        fc.boolean(),
        splitArb,
        (bytes, maxLineBytes, reject, split) => {
          const stream = Uint8Array.from(bytes);
          const framing = lines({ maxLineBytes, invalidUtf8: reject ? "reject" : "replace" });
          expect(decodeChunks(framing, cut(stream, split))).toEqual(
            referenceLines(stream, maxLineBytes, reject),
          );
        },
      ),
      { numRuns: 35_000 },
    );
  });

  it("length: any bytes, split anywhere, give what the whole-stream reference gives", () => {
    fc.assert(
      fc.property(
        frameStream,
        fc.integer({ min: 0, max: 32 }),
        splitArb,
        (stream, maxFrameBytes, split) => {
          const framing = lengthPrefixed({ maxFrameBytes });
          expect(asHex(decodeChunks(framing, cut(stream, split)))).toEqual(
            referenceFrames(stream, maxFrameBytes),
          );
        },
      ),
      { numRuns: 35_000 },
    );
  });

  it("both: uniformly random chunks give messages or a framing SocketError, nothing else", () => {
    const framings = [lines(), lines({ invalidUtf8: "reject" }), lengthPrefixed()];
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 32, size: "max" }), { maxLength: 8 }),
        (chunks) => {
          for (const framing of framings) decodeChunks<unknown>(framing, chunks);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});
