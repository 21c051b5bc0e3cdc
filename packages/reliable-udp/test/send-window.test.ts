import { describe, expect, test } from "vitest";
import { DUP_THRESHOLD, SendWindow } from "../src/send-window.js";

/** A window with `n` segments sent once each, numbered 0..n-1. */
function sent(n: number): SendWindow {
  const window = new SendWindow();
  for (let i = 0; i < n; i++) window.transmitted(window.add(Buffer.from([i])), i);
  return window;
}

describe("SendWindow", () => {
  test("a cumulative ACK frees what it covers", () => {
    const window = sent(5);
    expect(window.pipe).toBe(5);
    const outcome = window.acknowledge(3, []);
    expect(outcome).toMatchObject({ valid: true, acked: 3, sacked: 0, lost: 0 });
    expect(outcome.first?.seq).toBe(0);
    expect(window.una).toBe(3);
    expect(window.size).toBe(2);
    expect(window.pipe).toBe(2);
    expect(window.get(2)).toBeUndefined();
  });

  test("an ACK for numbers never sent changes nothing", () => {
    const window = sent(3);
    expect(window.acknowledge(4, []).valid).toBe(false);
    expect(window.una).toBe(0);
    expect(window.pipe).toBe(3);
  });

  test("an old ACK (below una) is harmless", () => {
    const window = sent(3);
    window.acknowledge(2, []);
    expect(window.acknowledge(1, [])).toMatchObject({ valid: true, acked: 0 });
    expect(window.una).toBe(2);
  });

  test("SACK ranges mark held segments; refused ranges are counted, not applied", () => {
    const window = sent(10);
    const outcome = window.acknowledge(0, [
      { start: 2, end: 4 },
      { start: 5, end: 5 }, // empty
      { start: 7, end: 6 }, // reversed
      { start: 8, end: 11 }, // past what was sent
    ]);
    // 3 was sent three transmissions after 0: 0 counts as lost.
    expect(outcome).toMatchObject({ valid: true, sacked: 2, invalidRanges: 3, lost: 1 });
    expect(window.get(2)?.sacked).toBe(true);
    expect(window.get(2)?.payload.length).toBe(0);
    expect(window.get(8)?.sacked).toBe(false);
    expect(window.pipe).toBe(7);
  });

  test(`a segment is lost once one sent ${DUP_THRESHOLD} transmissions later is acknowledged`, () => {
    const window = sent(6);
    // 0 is missing; 1 and 2 arrive: not yet (one datagram overtaken by the next is reordering).
    expect(window.acknowledge(0, [{ start: 1, end: 3 }]).lost).toBe(0);
    expect(window.nextLost()).toBeUndefined();
    // 3 arrives too: three segments after 0 are held, 0 is lost.
    expect(window.acknowledge(0, [{ start: 1, end: 4 }]).lost).toBe(1);
    expect(window.nextLost()?.seq).toBe(0);
    expect(window.pipe).toBe(2); // 4 and 5
    // Sent again: back in the pipe, not lost any more.
    window.transmitted(window.get(0) as never, 100);
    expect(window.nextLost()).toBeUndefined();
    expect(window.get(0)?.transmissions).toBe(2);
    expect(window.pipe).toBe(3);
  });

  test(`segments packed in one datagram share a serial: the threshold counts ${DUP_THRESHOLD} datagrams`, () => {
    const window = new SendWindow();
    const now = performance.now();
    // Datagram A: segments 0–4; then datagrams B, C, D of one segment each.
    for (let i = 0; i < 5; i++) window.transmitted(window.add(Buffer.from([i])), i, now, i > 0);
    for (let i = 5; i < 8; i++) window.transmitted(window.add(Buffer.from([i])), i, now);
    // B and C arrive, A does not: two datagrams later is reordering, not loss (per segment
    // it would be 5 and 6 transmissions later).
    expect(window.acknowledge(0, [{ start: 5, end: 7 }], now).lost).toBe(0);
    // D arrives too: three datagrams after A, so all five of A's segments are lost.
    expect(window.acknowledge(0, [{ start: 5, end: 8 }], now).lost).toBe(5);
  });

  test("a lost retransmission is found again by what was sent after it", () => {
    const window = sent(3);
    window.acknowledge(0, [{ start: 1, end: 3 }]);
    window.timeout();
    const zero = window.nextLost();
    window.transmitted(zero as never, 10);
    // Segments sent after the retransmission arrive; it did not.
    for (let i = 0; i < DUP_THRESHOLD; i++) window.transmitted(window.add(Buffer.alloc(1)), 11 + i);
    expect(window.acknowledge(0, [{ start: 1, end: 6 }]).lost).toBe(1);
    expect(window.nextLost()?.seq).toBe(0);
  });

  test("with fewer than three later segments, a gap counts as lost once it waited reorderMs", () => {
    const window = new SendWindow();
    for (let i = 0; i < 2; i++) window.transmitted(window.add(Buffer.alloc(1)), i, 100);
    // 1 arrived, 0 did not: too early to tell reordering from loss; look again at 100 + 5.
    const early = window.acknowledge(0, [{ start: 1, end: 2 }], 102, 5);
    expect(early).toMatchObject({ lost: 0, recheckAt: 105 });
    expect(window.detectLost(104, 5).lost).toBe(0);
    expect(window.detectLost(105, 5)).toEqual({ lost: 1, recheckAt: Number.POSITIVE_INFINITY });
    expect(window.nextLost()?.seq).toBe(0);
    // The tail-loss probe's choice: the highest segment the peer does not hold.
    expect(window.last()?.seq).toBe(0);
  });

  test("an ACK for a segment sent twice marks nothing lost: it may be for the first copy", () => {
    const window = new SendWindow();
    const first = window.add(Buffer.alloc(1));
    window.transmitted(first, 0, 0);
    window.timeout();
    for (let i = 0; i < 5; i++) window.transmitted(window.add(Buffer.alloc(1)), 0, 1);
    window.transmitted(window.nextLost() as never, 0, 2); // the retransmission, last sent
    // The first copy arrives: 0 is acknowledged; 1–5 are still on their way, not lost.
    expect(window.acknowledge(1, [], 3, 100).lost).toBe(0);
    expect(window.pipe).toBe(5);
  });

  test("a copy sent again and SACKed a least RTT later reveals the holes before it", () => {
    // The tail: 0–3 sent at 0, the probe sends 3 again at 10; only that copy arrives.
    const probe = () => {
      const window = new SendWindow();
      for (let i = 0; i < 4; i++) window.transmitted(window.add(Buffer.from([i])), 0, 0);
      window.transmitted(window.get(3) as never, 0, 10);
      return window;
    };
    // SACKed 0.5 ms after the probe, sooner than the least RTT (1 ms): for the first copy.
    expect(probe().acknowledge(0, [{ start: 3, end: 4 }], 10.5, 5, 1).lost).toBe(0);
    // SACKed 2 ms after it: the probe's copy arrived, so 0–2, sent before it, are lost.
    expect(probe().acknowledge(0, [{ start: 3, end: 4 }], 12, 5, 1).lost).toBe(3);
    // Without a least RTT, a copy sent twice is never evidence.
    expect(probe().acknowledge(0, [{ start: 3, end: 4 }], 12, 5).lost).toBe(0);
  });

  test("reordering is seen when a segment arrives after one sent later, not before", () => {
    const window = sent(6);
    // In order, and SACK ranges listed most recent first: no reordering.
    window.acknowledge(1, [
      { start: 4, end: 5 },
      { start: 2, end: 3 },
    ]);
    expect(window.reordered).toBe(false);
    // 1 arrives after 2 and 4, sent later than it: the path reorders.
    window.acknowledge(3, [{ start: 4, end: 5 }]);
    expect(window.reordered).toBe(true);
  });

  test("a timeout marks every outstanding segment the peer does not hold", () => {
    const window = sent(5);
    window.acknowledge(1, [{ start: 3, end: 4 }]);
    expect(window.timeout()).toBe(3); // 1, 2, 4
    expect(window.pipe).toBe(0);
    expect(window.nextLost()?.seq).toBe(1);
    window.acknowledge(3, []);
    expect(window.nextLost()?.seq).toBe(4);
  });
});
