import { describe, expect, it } from "vitest";
import { DEFAULT_SEED, mulberry32 } from "../src/index.js";

// Golden values from an independent Python port of mulberry32 (reference C/JS by Tommy Ettinger).
const GOLDEN: Record<number, number[]> = {
  0: [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197, 0.1462021479383111],
  1: [0.6270739405881613, 0.002735721180215478, 0.5274470399599522, 0.9810509674716741],
  42: [0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693],
  4294967295: [0.8964226141106337, 0.189478256739676, 0.7156526781618595, 0.9440599093213677],
};

describe("mulberry32", () => {
  it.each(Object.entries(GOLDEN))("seed %s gives the reference outputs", (seed, expected) => {
    const random = mulberry32(Number(seed));
    expect(expected.map(() => random())).toEqual(expected);
  });

  it("repeats the same sequence for the same seed, and another for another seed", () => {
    const a = mulberry32(DEFAULT_SEED);
    const b = mulberry32(DEFAULT_SEED);
    const c = mulberry32(DEFAULT_SEED + 1);
    const first = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(first);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(first);
  });

  it("is roughly uniform on [0, 1): 20 bins over 200,000 draws pass a chi-square bound", () => {
    const random = mulberry32(12345);
    const bins = new Array<number>(20).fill(0);
    const n = 200_000;
    let min = 1;
    let max = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = random();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
      const bin = Math.floor(x * 20);
      bins[bin] = (bins[bin] ?? 0) + 1;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
    const expected = n / 20;
    const chi2 = bins.reduce((acc, count) => acc + (count - expected) ** 2 / expected, 0);
    // 19 degrees of freedom: P(chi2 > 43.8) = 0.001.
    expect(chi2).toBeLessThan(43.8);
  });

  it("rejects a seed that is not a 32-bit unsigned integer, naming it", () => {
    expect(() => mulberry32(-1)).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "seed" is out of range. It must be an integer >= 0 && <= 4294967295. Received -1',
      }),
    );
    expect(() => mulberry32(2 ** 32)).toThrow(RangeError);
    expect(() => mulberry32(1.5)).toThrow(
      /^The value of "seed" is out of range\..* Received 1\.5$/,
    );
    expect(() => mulberry32(Number.NaN)).toThrow(RangeError);
    expect(() => mulberry32("1" as unknown as number)).toThrow(TypeError);
  });
});
