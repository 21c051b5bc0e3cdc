/**
 * Fuzzing the endpoint parser: any string is either an endpoint that is well formed (a port from
 * 0 to 65535, a valid host, a unix path within the limit) and reads back the same from its own
 * formatted URL, or ERR_INVALID_ENDPOINT quoting the input. Never another throw.
 *
 * `pnpm fuzz` runs this for longer: SOCKET_LAB_FUZZ_RUNS cases, from SOCKET_LAB_FUZZ_SEED (see
 * RELIABILITY.md). A normal test run does 20,000.
 */

import {
  formatEndpoint,
  isSocketError,
  isValidHost,
  MAX_UNIX_PATH_BYTES,
  parseEndpoint,
} from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const runs = Number(process.env.SOCKET_LAB_FUZZ_RUNS ?? 20_000);
const seed = process.env.SOCKET_LAB_FUZZ_SEED;
const parameters = { numRuns: runs, ...(seed === undefined ? {} : { seed: Number(seed) }) };

/** Strings made of the pieces endpoints are made of, and of pieces they must not contain. */
const endpointLike = fc
  .array(
    fc.oneof(
      fc.constantFrom("tcp://", "udp://", "unix://", "TCP://", "ftp://", "//", "/"),
      fc.constantFrom("[", "]", ":", ".", "%", "?", "#", "@", " ", "\t", "\0", "-", "_"),
      fc.constantFrom("127.0.0.1", "::1", "fe80::1", "localhost", "example.com", "a", "0", "ü"),
      fc.constantFrom("0", "1", "7000", "65535", "65536", "99999", "-1", "1.5", "+1", "0x10"),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 8 },
  )
  .map((pieces) => pieces.join(""));

describe("parseEndpoint, fuzzed", () => {
  it("any string: a well-formed endpoint that round-trips, or ERR_INVALID_ENDPOINT", () => {
    fc.assert(
      fc.property(fc.oneof(endpointLike, fc.string({ maxLength: 40 })), (input) => {
        let endpoint: ReturnType<typeof parseEndpoint>;
        try {
          endpoint = parseEndpoint(input);
        } catch (error) {
          expect(isSocketError(error, "ERR_INVALID_ENDPOINT")).toBe(true);
          expect((error as Error).message.startsWith(`invalid endpoint '${input}': `)).toBe(true);
          return;
        }
        if (endpoint.transport === "unix") {
          expect(endpoint.path.length).toBeGreaterThan(0);
          expect(endpoint.path.includes("\0")).toBe(false);
          expect(Buffer.byteLength(endpoint.path)).toBeLessThanOrEqual(MAX_UNIX_PATH_BYTES);
        } else {
          expect(["tcp", "udp"]).toContain(endpoint.transport);
          expect(Number.isInteger(endpoint.port)).toBe(true);
          expect(endpoint.port).toBeGreaterThanOrEqual(0);
          expect(endpoint.port).toBeLessThanOrEqual(65_535);
          expect(isValidHost(endpoint.host)).toBe(true);
        }
        expect(parseEndpoint(formatEndpoint(endpoint))).toEqual(endpoint);
      }),
      parameters,
    );
  });
});
