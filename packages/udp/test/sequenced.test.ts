import { formatAddress } from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeSequenced,
  encodeSequenced,
  nowMicros,
  SEQUENCED_HEADER_BYTES,
  SequenceTracker,
} from "../src/index.js";
import { FAMILIES, nextDatagram, useSockets } from "./_families.js";

describe("sequenced header", () => {
  it("writes the documented bytes (README hex example)", () => {
    expect(encodeSequenced({ seq: 1, sentAtUs: 1_234_567 }, "hi").toString("hex")).toBe(
      "5351010000000001000000000012d6876869",
    );
    // A send time above 2^32 µs uses the high half.
    expect(encodeSequenced({ seq: 0xffff_ffff, sentAtUs: 2 ** 32 + 5 }).toString("hex")).toBe(
      "53510100ffffffff0000000100000005",
    );
    expect(SEQUENCED_HEADER_BYTES).toBe(16);
  });

  it("reads back what it writes, for any seq, send time and payload", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffff_ffff }),
        fc.maxSafeNat(),
        fc.uint8Array({ maxLength: 100 }),
        (seq, sentAtUs, payload) => {
          const message = decodeSequenced(encodeSequenced({ seq, sentAtUs }, payload));
          expect(message.seq).toBe(seq);
          expect(message.sentAtUs).toBe(sentAtUs);
          expect(Buffer.from(message.payload).equals(Buffer.from(payload))).toBe(true);
        },
      ),
    );
  });

  it("stamps the send time from the monotonic clock when none is given", () => {
    const before = nowMicros();
    const { sentAtUs } = decodeSequenced(encodeSequenced({ seq: 3 }));
    const after = nowMicros();
    expect(Number.isInteger(sentAtUs)).toBe(true);
    expect(sentAtUs).toBeGreaterThanOrEqual(before);
    expect(after).toBeGreaterThanOrEqual(sentAtUs);
  });

  it.each([
    ["53510100000000010000000000", /13 bytes is shorter than the 16-byte header/],
    ["534c0100000000010000000000000000", /does not start with 53 51/],
    ["53510200000000010000000000000000", /version 2 is not 1/],
    ["5351010000000001ffffffff00000000", /beyond 2\^53 - 1/],
  ])("refuses %s with ERR_INVALID_HEADER", (hex, message) => {
    expect(() => decodeSequenced(Buffer.from(hex, "hex"))).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_HEADER",
        message: expect.stringMatching(message),
      }),
    );
  });

  it("names a bad seq or send time", () => {
    expect(() => encodeSequenced({ seq: -1 })).toThrow(
      /^The value of "seq" is out of range.* Received -1$/,
    );
    expect(() => encodeSequenced({ seq: 1, sentAtUs: 2 ** 53 })).toThrow(/sentAtUs/);
  });
});

describe.each(FAMILIES)("sequenced datagrams over $name loopback", (family) => {
  const open = useSockets();

  it("carry their number and send time: one-way latency and counts in one process", async () => {
    const receiver = await open(family.anyPort);
    const sender = await open(family.anyPort);
    const to = formatAddress(receiver.local);
    const tracker = new SequenceTracker();
    const count = 50;
    for (let seq = 1; seq <= count; seq++) {
      await sender.send(encodeSequenced({ seq }, `message ${seq}`), to);
      const message = decodeSequenced((await nextDatagram(receiver)).data);
      expect(message.payload.toString()).toBe(`message ${seq}`);
      expect(nowMicros() - message.sentAtUs).toBeGreaterThanOrEqual(0);
      tracker.record(message.seq);
    }
    expect(tracker.counts(count)).toEqual({
      sent: count,
      received: count,
      delivered: count,
      duplicated: 0,
      outOfOrder: 0,
      lost: 0,
    });
  });
});
