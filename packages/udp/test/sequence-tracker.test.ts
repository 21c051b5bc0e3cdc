import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type SequenceReceipt, SequenceTracker } from "../src/index.js";

/** The counts by the written definitions, computed without the tracker's running maximum. */
function expectedCounts(received: readonly number[], sent: number) {
  const distinct = new Set(received);
  let outOfOrder = 0;
  for (const seq of distinct) {
    const first = received.indexOf(seq);
    // Out of order: something higher arrived before this number's first receipt.
    if (received.slice(0, first).some((earlier) => earlier > seq)) outOfOrder++;
  }
  let missing = 0;
  for (let seq = 1; seq <= sent; seq++) if (!received.includes(seq)) missing++;
  return {
    sent,
    received: received.length,
    delivered: distinct.size,
    duplicated: received.filter((seq, index) => received.indexOf(seq) !== index).length,
    outOfOrder,
    lost: missing,
  };
}

/** Any drop/duplicate/permutation of 1..n: a shuffled subset with some numbers repeated. */
const impaired = fc.integer({ min: 0, max: 150 }).chain((n) =>
  fc
    .tuple(
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i + 1),
        { minLength: 0, maxLength: n },
      ),
      fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 20 }),
    )
    .map(([kept, copies]) => {
      const received = [...kept];
      for (const [from, at] of copies) {
        if (kept.length === 0) break;
        received.splice(at % (received.length + 1), 0, kept[from % kept.length] as number);
      }
      return { n, received };
    }),
);

describe("SequenceTracker", () => {
  it("counts the documented example", () => {
    const tracker = new SequenceTracker();
    const receipts = [1, 3, 2, 2, 5].map((seq) => tracker.record(seq));
    expect(receipts).toEqual(["in-order", "in-order", "out-of-order", "duplicate", "in-order"]);
    expect(tracker.counts(5)).toEqual({
      sent: 5,
      received: 5,
      delivered: 4,
      duplicated: 1,
      outOfOrder: 1,
      lost: 1,
    });
  });

  it("counts a gap as lost, not out of order, and a late duplicate once", () => {
    const tracker = new SequenceTracker();
    for (const seq of [1, 2, 4, 5, 1]) tracker.record(seq);
    expect(tracker.counts(6)).toMatchObject({
      delivered: 4,
      duplicated: 1,
      outOfOrder: 0,
      lost: 2,
    });
  });

  it("gives exact counts for any drop, duplicate and permutation of 1..N", () => {
    fc.assert(
      fc.property(impaired, ({ n, received }) => {
        const tracker = new SequenceTracker();
        const receipts: SequenceReceipt[] = received.map((seq) => tracker.record(seq));
        const expected = expectedCounts(received, n);
        expect(tracker.counts(n)).toEqual(expected);
        expect(receipts.filter((r) => r === "duplicate").length).toBe(expected.duplicated);
        expect(receipts.filter((r) => r === "out-of-order").length).toBe(expected.outOfOrder);
      }),
      { numRuns: 300 },
    );
  });

  it("also holds for arbitrary receipt lists of numbers in 1..N", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            received: fc.array(fc.integer({ min: 1, max: n }), { maxLength: 120 }),
          }),
        ),
        ({ n, received }) => {
          const tracker = new SequenceTracker();
          for (const seq of received) tracker.record(seq);
          expect(tracker.counts(n)).toEqual(expectedCounts(received, n));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("names a bad sequence number or sent count", () => {
    const tracker = new SequenceTracker();
    expect(() => tracker.record(-1)).toThrow(RangeError);
    expect(() => tracker.record(2 ** 32)).toThrow(
      /^The value of "seq" is out of range. It must be an integer >= 0 && <= 4294967295. Received 4294967296$/,
    );
    tracker.record(1);
    tracker.record(2);
    expect(() => tracker.counts(1)).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message: 'The value of "sent" is out of range. It must be an integer >= 2. Received 1',
      }),
    );
  });
});
