import { describe, expect, it } from "vitest";
import { percentile, summarize } from "../src/stats.js";

describe("summarize", () => {
  it("gives the middle sample, the extremes and the samples in measured order", () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, samples: [5, 1, 3] });
  });

  it("averages the two middle samples of an even count", () => {
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });

  it("refuses no samples", () => {
    expect(() => summarize([])).toThrow(RangeError);
  });
});

describe("percentile", () => {
  it("is nearest-rank", () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(Float64Array.of(7), 1)).toBe(7);
  });

  it("refuses no values", () => {
    expect(() => percentile(new Float64Array(0), 50)).toThrow(RangeError);
  });
});
