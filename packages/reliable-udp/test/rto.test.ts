import { describe, expect, test } from "vitest";
import { DEFAULT_INITIAL_RTO_MS, RtoEstimator } from "../src/rto.js";

describe("RtoEstimator (RFC 6298)", () => {
  test("before any sample the RTO is the initial 1 s (2.1)", () => {
    const rto = new RtoEstimator();
    expect(rto.rtoMs).toBe(DEFAULT_INITIAL_RTO_MS);
    expect(rto.srttMs).toBeUndefined();
  });

  test("first sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4·RTTVAR) (2.2)", () => {
    const rto = new RtoEstimator({ minRtoMs: 1 });
    rto.sample(100);
    expect(rto.srttMs).toBe(100);
    expect(rto.rttvarMs).toBe(50);
    expect(rto.rtoMs).toBe(300);
  });

  test("later samples: RTTVAR = 3/4·RTTVAR + 1/4·|SRTT − R'| first, then SRTT = 7/8·SRTT + 1/8·R' (2.3)", () => {
    const rto = new RtoEstimator({ minRtoMs: 1 });
    rto.sample(100);
    rto.sample(200);
    // RTTVAR = 0.75·50 + 0.25·|100 − 200| = 62.5; SRTT = 0.875·100 + 0.125·200 = 112.5
    expect(rto.rttvarMs).toBe(62.5);
    expect(rto.srttMs).toBe(112.5);
    expect(rto.rtoMs).toBe(112.5 + 4 * 62.5);
  });

  test("G: a steady RTT still leaves a clock tick of margin", () => {
    const rto = new RtoEstimator({ minRtoMs: 1 });
    for (let i = 0; i < 200; i++) rto.sample(10);
    expect(rto.rttvarMs).toBeLessThan(0.001);
    expect(rto.rtoMs).toBeCloseTo(11, 2);
  });

  test("bounded below by minRtoMs (2.4) and above by maxRtoMs (2.5)", () => {
    const low = new RtoEstimator({ minRtoMs: 200 });
    low.sample(0.1);
    expect(low.rtoMs).toBe(200);
    const high = new RtoEstimator({ maxRtoMs: 5_000 });
    high.sample(10_000);
    expect(high.rtoMs).toBe(5_000);
  });

  test("backoff doubles per timeout up to the cap (5.5); a new sample ends it (5.7)", () => {
    const rto = new RtoEstimator({ minRtoMs: 200, maxRtoMs: 1_000 });
    rto.sample(1);
    expect(rto.rtoMs).toBe(200);
    rto.backoff();
    expect(rto.rtoMs).toBe(400);
    rto.backoff();
    rto.backoff();
    rto.backoff();
    expect(rto.rtoMs).toBe(1_000);
    rto.sample(1);
    expect(rto.rtoMs).toBe(200);
    expect(rto.backoffs).toBe(0);
  });

  test("ignores negative and non-finite samples; refuses bad bounds", () => {
    const rto = new RtoEstimator();
    rto.sample(-1);
    rto.sample(Number.NaN);
    expect(rto.srttMs).toBeUndefined();
    expect(() => new RtoEstimator({ minRtoMs: 10, maxRtoMs: 5 })).toThrow(/minRtoMs/);
    expect(() => new RtoEstimator({ initialRtoMs: -1 })).toThrow(RangeError);
  });
});
