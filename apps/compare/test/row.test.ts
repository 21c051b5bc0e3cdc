import { encodeSequenced } from "@socket-lab/udp";
import { describe, expect, test } from "vitest";
import { numberedMessage, percentile, Receiver } from "../src/internal/row.js";

describe("Receiver", () => {
  test("counts delivered, lost, duplicated and out-of-order messages from their numbers", () => {
    const receiver = new Receiver();
    for (const seq of [0, 2, 1, 1, 4, 3]) receiver.record(numberedMessage(seq, 32));
    expect(receiver.received).toBe(6);
    expect(receiver.result(6, 0, null, false)).toMatchObject({
      sent: 6,
      delivered: 5,
      lost: 1,
      duplicated: 1,
      outOfOrder: 2,
      retries: null,
      timeLimited: false,
    });
  });

  test("measures latency from the send time in the header, duplicates left out", () => {
    const receiver = new Receiver();
    receiver.record(encodeSequenced({ seq: 0, sentAtUs: 0 }));
    const { latencyMs } = receiver.result(1, 0, null, false);
    // The header says the message left when the clock started: its latency is the clock now.
    expect(latencyMs?.p50).toBeGreaterThan(0);
    expect(latencyMs?.p50).toBe(latencyMs?.p99);
  });

  test("reports no latency and no time when nothing arrived", () => {
    expect(new Receiver().result(10, 0, 0, true)).toMatchObject({
      delivered: 0,
      lost: 10,
      elapsedMs: 0,
      messagesPerSecond: 0,
      latencyMs: null,
      retries: 0,
      timeLimited: true,
    });
  });

  test("refuses a message without the sequenced header", () => {
    expect(() => new Receiver().record(Buffer.from("hello, world, hi"))).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_HEADER" }),
    );
  });
});

describe("numberedMessage", () => {
  test("is exactly `size` bytes: the 16-byte header, then filler", () => {
    expect(numberedMessage(7, 16)).toHaveLength(16);
    expect(numberedMessage(7, 1_464)).toHaveLength(1_464);
    expect(numberedMessage(7, 20).readUInt32BE(4)).toBe(7);
  });
});

describe("percentile", () => {
  test("is the nearest rank", () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
  });
});
