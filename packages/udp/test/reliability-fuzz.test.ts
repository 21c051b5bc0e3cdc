/**
 * Fuzzing the two header decoders with bytes shaped like their headers (the right magic, most of
 * the time), against a plain reading of the documented format: same fields, or
 * ERR_INVALID_HEADER exactly when the format says no; never another throw.
 *
 * `pnpm fuzz` runs these for longer: SOCKET_LAB_FUZZ_RUNS cases per property, from
 * SOCKET_LAB_FUZZ_SEED (see RELIABILITY.md). A normal test run does 10,000 each.
 */

import { isSocketError } from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequestFrame, decodeSequenced } from "../src/index.js";

const runs = Number(process.env.SOCKET_LAB_FUZZ_RUNS ?? 10_000);
const seed = process.env.SOCKET_LAB_FUZZ_SEED;
const parameters = { numRuns: runs, ...(seed === undefined ? {} : { seed: Number(seed) }) };

/** Bytes that often start with `magic`, version 1 and a known type, then anything, cut anywhere. */
function headerLike(magic: [number, number], headerBytes: number): fc.Arbitrary<Uint8Array> {
  const byte = fc.integer({ min: 0, max: 255 });
  return fc
    .tuple(
      fc.oneof(fc.constant(magic[0]), byte),
      fc.oneof(fc.constant(magic[1]), byte),
      fc.oneof(fc.constant(1), byte),
      fc.oneof(fc.constantFrom(0, 1, 2), byte),
      // Zero bytes often, so that fields with a range (a send time under 2^53) are hit.
      fc.array(fc.oneof(fc.constant(0), byte), {
        minLength: headerBytes - 4,
        maxLength: headerBytes - 4,
      }),
      fc.uint8Array({ maxLength: 24 }),
      fc.nat({ max: headerBytes + 24 }),
    )
    .map(([m0, m1, version, type, rest, payload, cut]) =>
      Uint8Array.from([m0, m1, version, type, ...rest, ...payload]).subarray(0, cut),
    );
}

/** What a decoder gave: its fields, or the code it threw. */
function outcome<T>(decode: () => T): T | { error: string } {
  try {
    return decode();
  } catch (error) {
    if (!isSocketError(error, "ERR_INVALID_HEADER")) throw error;
    return { error: error.code };
  }
}

describe("header decoders, fuzzed", () => {
  it("decodeRequestFrame: the documented 8-byte header, or ERR_INVALID_HEADER", () => {
    fc.assert(
      fc.property(headerLike([0x53, 0x4c], 8), (bytes) => {
        const b = Buffer.from(bytes);
        const valid = b.length >= 8 && b[0] === 0x53 && b[1] === 0x4c && b[2] === 1;
        const expected =
          valid && (b[3] === 1 || b[3] === 2)
            ? {
                kind: b[3] === 1 ? "request" : "reply",
                id: b.readUInt32BE(4),
                payload: b.subarray(8),
              }
            : { error: "ERR_INVALID_HEADER" };
        expect(outcome(() => decodeRequestFrame(bytes))).toEqual(expected);
      }),
      parameters,
    );
  });

  it("decodeSequenced: the documented 16-byte header, or ERR_INVALID_HEADER", () => {
    fc.assert(
      fc.property(headerLike([0x53, 0x51], 16), (bytes) => {
        const b = Buffer.from(bytes);
        const high = b.length >= 16 ? b.readUInt32BE(8) : 0;
        const valid =
          b.length >= 16 && b[0] === 0x53 && b[1] === 0x51 && b[2] === 1 && high < 2 ** 21;
        const expected = valid
          ? {
              seq: b.readUInt32BE(4),
              sentAtUs: high * 2 ** 32 + b.readUInt32BE(12),
              payload: b.subarray(16),
            }
          : { error: "ERR_INVALID_HEADER" };
        expect(outcome(() => decodeSequenced(bytes))).toEqual(expected);
      }),
      parameters,
    );
  });
});
