/**
 * Fuzzing the segment decoder with bytes shaped like a segment (the right magic, version and
 * a known type most of the time), against a plain reading of the documented format (README,
 * "The header"): the same fields, or ERR_INVALID_HEADER exactly when the format says no;
 * never another throw.
 *
 * `pnpm fuzz` runs this for longer: SOCKET_LAB_FUZZ_RUNS cases, from SOCKET_LAB_FUZZ_SEED
 * (see RELIABILITY.md). A normal test run does 10,000.
 */

import { isSocketError } from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSegment } from "../src/index.js";

const runs = Number(process.env.SOCKET_LAB_FUZZ_RUNS ?? 10_000);
const seed = process.env.SOCKET_LAB_FUZZ_SEED;
const parameters = { numRuns: runs, ...(seed === undefined ? {} : { seed: Number(seed) }) };

/** The documented format, read the plain way: the fields, or `undefined` when it says no. */
function reference(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 28) return undefined;
  if (bytes[0] !== 0x52 || bytes[1] !== 0x55 || bytes[2] !== 1) return undefined;
  const type = bytes[3] as number;
  const count = bytes[18] as number;
  const connId = view.getUint32(4);
  if (type < 1 || type > 6 || connId === 0 || count > 4 || bytes[19] !== 0) return undefined;
  const size = 28 + 8 * count;
  if (bytes.length < size || (bytes.length > size && type !== 4)) return undefined;
  const sack = Array.from({ length: count }, (_, i) => ({
    start: view.getUint32(28 + 8 * i),
    end: view.getUint32(32 + 8 * i),
  }));
  return {
    type,
    connId,
    seq: view.getUint32(8),
    ack: view.getUint32(12),
    window: view.getUint16(16),
    timestamp: view.getUint32(20),
    echo: view.getUint32(24),
    sack,
    payload: [...bytes.subarray(size)],
  };
}

/** Bytes that often look like a segment, cut anywhere. */
const segmentLike = fc
  .tuple(
    fc.oneof(fc.constant(0x52), fc.nat(255)),
    fc.oneof(fc.constant(0x55), fc.nat(255)),
    fc.oneof(fc.constant(1), fc.nat(255)),
    fc.oneof(fc.integer({ min: 1, max: 6 }), fc.nat(255)),
    fc.array(fc.oneof(fc.constant(0), fc.nat(255)), { minLength: 14, maxLength: 14 }),
    fc.oneof(fc.integer({ min: 0, max: 4 }), fc.nat(255)),
    fc.oneof(fc.constant(0), fc.nat(255)),
    fc.uint8Array({ maxLength: 48 }),
    fc.nat({ max: 80 }),
  )
  .map(([m0, m1, version, type, fields, count, flags, rest, cut]) =>
    Uint8Array.from([m0, m1, version, type, ...fields, count, flags, ...rest]).subarray(0, cut),
  );

describe("decodeSegment against the documented format", () => {
  it("decodes exactly what the format allows, else throws ERR_INVALID_HEADER", () => {
    fc.assert(
      fc.property(fc.oneof(segmentLike, fc.uint8Array({ maxLength: 100 })), (bytes) => {
        const expected = reference(bytes);
        let decoded: ReturnType<typeof decodeSegment> | undefined;
        try {
          decoded = decodeSegment(bytes);
        } catch (error) {
          if (!isSocketError(error, "ERR_INVALID_HEADER")) throw error;
        }
        if (expected === undefined) expect(decoded).toBeUndefined();
        else expect({ ...decoded, payload: [...(decoded?.payload ?? [])] }).toEqual(expected);
      }),
      parameters,
    );
  });
});
