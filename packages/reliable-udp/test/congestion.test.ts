import { expect, test } from "vitest";
import { CongestionControl } from "../src/congestion.js";

test("slow start doubles the window per round trip until ssthresh", () => {
  const cc = new CongestionControl(2, 1_000);
  expect(cc.slowStart).toBe(true);
  cc.onAck(2); // one round trip of a 2-segment window
  expect(cc.cwnd).toBe(4);
  cc.onAck(4);
  expect(cc.cwnd).toBe(8);
});

test("a fast-retransmit loss cuts to 0.7 × cwnd; congestion avoidance then adds about one per round trip", () => {
  const cc = new CongestionControl(10, 1_000);
  cc.onAck(10); // 20
  cc.onLoss();
  expect(cc.cwnd).toBe(14);
  expect(cc.ssthresh).toBe(14);
  expect(cc.slowStart).toBe(false);
  cc.onAck(14); // one window's worth of ACKs
  expect(cc.cwnd).toBe(14); // 14 + ~0.97
  cc.onAck(1);
  expect(cc.cwnd).toBe(15);
});

test("congestion avoidance adds a full datagram's worth of segments per round trip", () => {
  const cc = new CongestionControl(10, 1_000);
  cc.onAck(10); // 20
  cc.onLoss(); // 14
  cc.onAck(14, 8); // one window's worth of ACKs, 8 segments to a datagram
  expect(cc.cwnd).toBe(20); // 14 + ~6.6 (the window grows within the round trip); 1 alone: 14
});

test("the cut scales the window, however few segments are in flight", () => {
  const cc = new CongestionControl(20, 1_000);
  // A flight of 3 (the rest SACKed or lost) used to cut a window of 20 to 2.
  cc.onLoss();
  expect(cc.cwnd).toBe(14);
});

test("minCwnd: a fast-retransmit loss leaves at least that window; a timeout still goes to 1", () => {
  const cc = new CongestionControl(10, 1_000, 10);
  cc.onLoss();
  expect(cc.cwnd).toBe(10); // 0.7 × 10 = 7, floored at 10
  expect(cc.ssthresh).toBe(10);
  cc.onTimeout(4);
  expect(cc.cwnd).toBe(1);
  expect(cc.ssthresh).toBe(10);
  // The default floor is RFC 5681's two segments.
  const standard = new CongestionControl(2, 1_000);
  standard.onLoss();
  expect(standard.cwnd).toBe(2);
  expect(() => new CongestionControl(10, 1_000, 0)).toThrow(RangeError);
});

test("undo restores the window a spurious loss took away", () => {
  const cc = new CongestionControl(10, 1_000);
  cc.onTimeout(10);
  expect(cc.cwnd).toBe(1);
  cc.undo();
  expect(cc.cwnd).toBe(10);
  cc.undo(); // nothing more to undo
  expect(cc.cwnd).toBe(10);
});

test("a timeout starts over from one segment; ssthresh never drops below 2", () => {
  const cc = new CongestionControl(10, 1_000);
  cc.onTimeout(2);
  expect(cc.cwnd).toBe(1);
  expect(cc.ssthresh).toBe(2);
  cc.onAck(1);
  expect(cc.cwnd).toBe(2);
});

test("the window never exceeds its maximum", () => {
  const cc = new CongestionControl(10, 16);
  cc.onAck(1_000);
  expect(cc.cwnd).toBe(16);
  expect(() => new CongestionControl(0)).toThrow(RangeError);
});
