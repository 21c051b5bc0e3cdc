import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Chunking, checkChunking, createChunker } from "../src/chunker.js";
import { mulberry32 } from "../src/index.js";

const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31) % 251));

/** Pushes each read, then flushes; returns the pieces per read and all of them. */
function run(chunking: Chunking, reads: Buffer[], seed = 1) {
  const chunker = createChunker(chunking, mulberry32(seed));
  const perRead = reads.map((read) => chunker.push(read));
  const tail = chunker.flush();
  return { perRead, tail, all: [...perRead.flat(), ...tail] };
}

describe("createChunker", () => {
  it("bytes mode cuts every read into pieces of `size`, the last of a read possibly shorter", () => {
    const { perRead, tail } = run({ mode: "bytes", size: 1 }, [bytes(5), bytes(3)]);
    expect(perRead.map((pieces) => pieces.map((p) => p.length))).toEqual([
      [1, 1, 1, 1, 1],
      [1, 1, 1],
    ]);
    expect(tail).toEqual([]);
    const three = run({ mode: "bytes", size: 3 }, [bytes(7)]);
    expect(three.perRead[0]?.map((p) => p.length)).toEqual([3, 3, 1]);
  });

  it("random mode draws one size per piece from min..max, reproducibly from the seed", () => {
    const reads = [bytes(10_000), bytes(7_000)];
    const a = run({ mode: "random", min: 2, max: 9 }, reads, 77);
    for (const pieces of a.perRead) {
      for (const piece of pieces.slice(0, -1)) {
        expect(piece.length).toBeGreaterThanOrEqual(2);
        expect(piece.length).toBeLessThanOrEqual(9);
      }
    }
    const sizes = new Set(a.all.map((p) => p.length));
    for (let size = 2; size <= 9; size++) expect(sizes.has(size)).toBe(true);
    const again = run({ mode: "random", min: 2, max: 9 }, reads, 77);
    expect(again.all.map((p) => p.length)).toEqual(a.all.map((p) => p.length));
    const other = run({ mode: "random", min: 2, max: 9 }, reads, 78);
    expect(other.all.map((p) => p.length)).not.toEqual(a.all.map((p) => p.length));
  });

  it("coalesce mode joins reads into pieces of exactly maxBytes and holds the rest", () => {
    const chunker = createChunker({ mode: "coalesce", maxBytes: 10, maxDelayMs: 5 }, mulberry32(1));
    expect(chunker.push(bytes(4))).toEqual([]);
    expect(chunker.buffered).toBe(4);
    expect(chunker.push(bytes(3))).toEqual([]);
    const pieces = chunker.push(bytes(25));
    expect(pieces.map((p) => p.length)).toEqual([10, 10, 10]);
    expect(chunker.buffered).toBe(2);
    expect(chunker.flush().map((p) => p.length)).toEqual([2]);
    expect(chunker.buffered).toBe(0);
    expect(chunker.flush()).toEqual([]);
  });

  it("never loses, adds or reorders a byte, whatever the mode and the reads", () => {
    const chunking = fc.oneof(
      fc.record({ mode: fc.constant("bytes" as const), size: fc.integer({ min: 1, max: 40 }) }),
      fc
        .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }))
        .map(([min, extra]) => ({ mode: "random" as const, min, max: min + extra })),
      fc.record({
        mode: fc.constant("coalesce" as const),
        maxBytes: fc.integer({ min: 1, max: 100 }),
        maxDelayMs: fc.constant(1),
      }),
    );
    const reads = fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 20 });
    fc.assert(
      fc.property(chunking, reads, fc.nat(), (mode, chunks, seed) => {
        const input = chunks.map((c) => Buffer.from(c));
        const { all } = run(mode, input, seed);
        expect(Buffer.concat(all)).toEqual(Buffer.concat(input));
        expect(all.every((p) => p.length > 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe("checkChunking", () => {
  it("accepts each mode and rejects bad fields naming them and their value", () => {
    expect(checkChunking({ mode: "bytes", size: 1 })).toEqual({ mode: "bytes", size: 1 });
    expect(() => checkChunking({ mode: "bytes", size: 0 })).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "chunking.size" is out of range. It must be an integer >= 1 && <= 16777216. Received 0',
      }),
    );
    expect(() => checkChunking({ mode: "random", min: 10, max: 5 })).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "chunking.min" is out of range. It must be an integer <= chunking.max (5). Received 10',
      }),
    );
    expect(() => checkChunking({ mode: "random", min: 1 })).toThrow(TypeError);
    expect(() => checkChunking({ mode: "coalesce", maxBytes: 8, maxDelayMs: -1 })).toThrow(
      /^The value of "chunking\.maxDelayMs" is out of range\..* Received -1$/,
    );
    expect(() => checkChunking({ mode: "lines" })).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_VALUE",
        message: `The "chunking.mode" property must be one of: 'bytes', 'random', 'coalesce'. Received 'lines'`,
      }),
    );
    expect(() => checkChunking(null)).toThrow(TypeError);
  });
});
