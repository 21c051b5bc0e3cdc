import { isSocketError } from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequestFrame, encodeRequestFrame, REQUEST_HEADER_BYTES } from "../src/index.js";

describe("request frame", () => {
  it("writes the documented bytes (README hex example)", () => {
    expect(encodeRequestFrame({ kind: "request", id: 1 }, "ping").toString("hex")).toBe(
      "534c01010000000170696e67",
    );
    expect(encodeRequestFrame({ kind: "reply", id: 1 }, "pong").toString("hex")).toBe(
      "534c010200000001706f6e67",
    );
    expect(encodeRequestFrame({ kind: "request", id: 0xffff_fffe }).toString("hex")).toBe(
      "534c0101fffffffe",
    );
    expect(REQUEST_HEADER_BYTES).toBe(8);
  });

  it("reads back what it writes, for any kind, id and payload", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("request" as const, "reply" as const),
        fc.nat({ max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 200 }),
        (kind, id, payload) => {
          const frame = decodeRequestFrame(encodeRequestFrame({ kind, id }, payload));
          expect(frame.kind).toBe(kind);
          expect(frame.id).toBe(id);
          expect(Buffer.from(frame.payload).equals(Buffer.from(payload))).toBe(true);
        },
      ),
    );
  });

  it("gives the payload as a view into the datagram, at any offset", () => {
    const backing = Buffer.from("ffff534c0102000000076869", "hex").subarray(2);
    const frame = decodeRequestFrame(new Uint8Array(backing.buffer, backing.byteOffset, 10));
    expect(frame).toEqual({ kind: "reply", id: 7, payload: Buffer.from("hi") });
  });

  it.each([
    ["(empty)", /0 bytes is shorter than the 8-byte header/],
    ["534c01010000", /6 bytes is shorter/],
    ["4c5301010000000170", /does not start with 53 4c/],
    ["534c02010000000170", /version 2 is not 1/],
    ["534c01030000000170", /type 3 is neither 1 \(request\) nor 2 \(reply\)/],
  ])("refuses %s with ERR_INVALID_HEADER", (hex, message) => {
    const bytes = Buffer.from(hex === "(empty)" ? "" : hex, "hex");
    expect(() => decodeRequestFrame(bytes)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_HEADER",
        message: expect.stringMatching(message),
      }),
    );
  });

  it("turns any bytes into a frame or ERR_INVALID_HEADER, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          const frame = decodeRequestFrame(bytes);
          expect(frame.payload.length).toBe(bytes.length - REQUEST_HEADER_BYTES);
        } catch (error) {
          expect(isSocketError(error, "ERR_INVALID_HEADER")).toBe(true);
        }
      }),
    );
  });

  it("names a bad id or kind", () => {
    expect(() => encodeRequestFrame({ kind: "request", id: 2 ** 32 })).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "id" is out of range. It must be an integer >= 0 && <= 4294967295. Received 4294967296',
      }),
    );
    expect(() => encodeRequestFrame({ kind: "request", id: 1.5 })).toThrow(RangeError);
    expect(() => encodeRequestFrame({ kind: "ask" as "request", id: 1 })).toThrow(TypeError);
    expect(() => encodeRequestFrame({ kind: "request", id: 1 }, 5 as unknown as string)).toThrow(
      TypeError,
    );
  });
});
