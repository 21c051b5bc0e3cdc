import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { MAX_SACK_PAGES, ReceiveWindow } from "../src/receive-window.js";

const b = (n: number) => Buffer.from([n]);

describe("ReceiveWindow", () => {
  test("delivers in order; holds what comes early and delivers it once the gap fills", () => {
    const window = new ReceiveWindow(8);
    expect(window.accept(0, b(0), false, 8)).toMatchObject({ arrival: "in-order" });
    expect(window.accept(2, b(2), false, 8)).toEqual({ arrival: "out-of-order", delivered: [] });
    expect(window.accept(3, b(3), false, 8).arrival).toBe("out-of-order");
    expect(window.held).toBe(2);
    const filled = window.accept(1, b(1), false, 8);
    expect(filled.arrival).toBe("in-order");
    expect(filled.delivered.map((d) => d.payload[0])).toEqual([1, 2, 3]);
    expect(window.next).toBe(4);
    expect(window.held).toBe(0);
  });

  test("duplicates, delivered or held, are dropped", () => {
    const window = new ReceiveWindow(8);
    window.accept(0, b(0), false, 8);
    window.accept(2, b(2), false, 8);
    expect(window.accept(0, b(0), false, 8).arrival).toBe("duplicate");
    expect(window.accept(2, b(2), false, 8).arrival).toBe("duplicate");
  });

  test("out-of-window segments are dropped: nothing beyond next + room is held", () => {
    const window = new ReceiveWindow(4);
    expect(window.accept(4, b(4), false, 4).arrival).toBe("out-of-window");
    expect(window.accept(2, b(2), false, 2).arrival).toBe("out-of-window");
    expect(window.accept(10 ** 9, b(0), false, 4).arrival).toBe("out-of-window");
    expect(window.held).toBe(0);
    // A FIN carries nothing: a closed window still takes it.
    expect(window.accept(0, Buffer.alloc(0), true, 0).arrival).toBe("in-order");
    expect(window.finished).toBe(true);
  });

  test("nothing is taken past a FIN", () => {
    const window = new ReceiveWindow(8);
    window.accept(2, Buffer.alloc(0), true, 8);
    expect(window.accept(3, b(3), false, 8).arrival).toBe("out-of-window");
    expect(window.accept(1, b(1), false, 8).arrival).toBe("out-of-order");
  });

  test("SACK ranges: the most recently changed first (RFC 2018); at most 4", () => {
    const window = new ReceiveWindow(64);
    for (const seq of [2, 3, 5, 9, 10, 20, 30, 7]) window.accept(seq, b(seq), false, 64);
    expect(window.sack()).toEqual([
      { start: 7, end: 8 },
      { start: 30, end: 31 },
      { start: 20, end: 21 },
      { start: 9, end: 11 },
    ]);
    // An arrival that extends an old range moves it to the front.
    window.accept(4, b(4), false, 64);
    expect(window.sack()[0]).toEqual({ start: 2, end: 6 });
    expect(new ReceiveWindow(4).sack()).toEqual([]);
  });

  test("more ranges than a SACK holds: each is reported in the ACK after its arrival", () => {
    // Every other segment arrives, two to a datagram (one ACK per datagram): each arrival makes
    // a range of its own. A sender that keeps every range it was told (a scoreboard) learns
    // them all; the latest range and the lowest ones would never tell it of 9, 13, 17, …
    const window = new ReceiveWindow(64);
    const told = new Set<number>();
    for (let seq = 1; seq < 40; seq += 4) {
      window.accept(seq, b(seq), false, 64);
      window.accept(seq + 2, b(seq + 2), false, 64);
      for (const { start, end } of window.sack()) for (let n = start; n < end; n++) told.add(n);
    }
    expect([...told].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => 2 * i + 1),
    );
  });

  test("SACK pages: ranges changed since the last ACK beyond the first 4 get ACKs of their own", () => {
    const window = new ReceiveWindow(64);
    // One turn's datagrams make 6 new ranges: 10, 8, 6, 4, 2 and 12 (the latest).
    for (const seq of [2, 4, 6, 8, 10, 12]) window.accept(seq, b(seq), false, 64);
    expect(window.sackPages()).toEqual([
      [
        { start: 12, end: 13 },
        { start: 10, end: 11 },
        { start: 8, end: 9 },
        { start: 6, end: 7 },
      ],
      [
        { start: 4, end: 5 },
        { start: 2, end: 3 },
      ],
    ]);
    // Nothing changed since: the next segment repeats the first 4, and that is all.
    expect(window.sackPages()).toHaveLength(1);
    // One new range: it goes first, and still no page of its own is needed.
    window.accept(20, b(20), false, 64);
    expect(window.sackPages().map((page) => page.length)).toEqual([4]);
    // At most MAX_SACK_PAGES pages, however many ranges changed.
    for (let seq = 22; seq < 62; seq += 2) window.accept(seq, b(seq), false, 64);
    expect(window.sackPages()).toHaveLength(MAX_SACK_PAGES);
  });

  test("property: any arrival order, with duplicates, delivers each message once, in order, within capacity", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 40 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.shuffledSubarray([...Array(n).keys(), ...Array(n).keys()], { minLength: 2 * n }),
            ),
          ),
        fc.integer({ min: 1, max: 16 }),
        ([n, order], capacity) => {
          const window = new ReceiveWindow(capacity);
          const delivered: number[] = [];
          // Resend until all arrive; the reader takes everything at once (room = capacity).
          for (let round = 0; round < n + 2 && delivered.length < n; round++) {
            for (const seq of order) {
              for (const d of window.accept(seq, b(seq), false, capacity).delivered)
                delivered.push(d.payload[0] as number);
              expect(window.held).toBeLessThan(capacity);
            }
          }
          expect(delivered).toEqual([...Array(n).keys()]);
        },
      ),
    );
  });
});
