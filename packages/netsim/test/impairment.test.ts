import { describe, expect, it } from "vitest";
import { createImpairment, type ImpairmentDecision, mulberry32 } from "../src/index.js";

const draw = (n: number, options: Parameters<typeof createImpairment>[0]) => {
  const plan = createImpairment(options);
  return Array.from({ length: n }, () => plan.decide());
};

describe("createImpairment", () => {
  it("passes everything through by default", () => {
    const plan = createImpairment();
    for (let i = 0; i < 100; i++) {
      expect(plan.decide()).toEqual({ drop: false, duplicate: false, reorder: false, delayMs: 0 });
    }
    expect(plan.decisions).toBe(100);
  });

  it("draws exactly four numbers per datagram, in the order loss, duplicate, reorder, jitter", () => {
    const options = { loss: 0.3, duplicate: 0.4, reorder: 0.5, delayMs: 10, jitterMs: 6, seed: 99 };
    const random = mulberry32(99);
    for (const decision of draw(2000, options)) {
      const [l, d, r, j] = [random(), random(), random(), random()];
      const expected: ImpairmentDecision =
        l < 0.3
          ? { drop: true, duplicate: false, reorder: false, delayMs: 0 }
          : { drop: false, duplicate: d < 0.4, reorder: r < 0.5, delayMs: 10 + Math.floor(j * 7) };
      expect(decision).toEqual(expected);
    }
  });

  it("gives the same decisions for the same seed and different ones for another seed", () => {
    const options = { loss: 0.1, duplicate: 0.1, reorder: 0.1, jitterMs: 3 };
    const a = draw(1000, { ...options, seed: 5 });
    expect(draw(1000, { ...options, seed: 5 })).toEqual(a);
    expect(draw(1000, { ...options, seed: 6 })).not.toEqual(a);
    expect(draw(1000, { ...options, seed: 5, direction: "to-client" })).not.toEqual(a);
    expect(draw(1000, { ...options, seed: 5, direction: "to-server" })).toEqual(a);
  });

  it("hits each rate within 5 standard deviations over 100,000 decisions", () => {
    const n = 100_000;
    const loss = 0.05;
    const duplicate = 0.02;
    const reorder = 0.1;
    const decisions = draw(n, { loss, duplicate, reorder, delayMs: 3, jitterMs: 4, seed: 2024 });
    const count = (f: (d: ImpairmentDecision) => boolean) => decisions.filter(f).length;
    const within = (observed: number, trials: number, p: number) => {
      const sd = Math.sqrt(trials * p * (1 - p));
      expect(Math.abs(observed - trials * p)).toBeLessThanOrEqual(5 * sd);
    };
    const dropped = count((d) => d.drop);
    within(dropped, n, loss);
    within(
      count((d) => d.duplicate),
      n,
      (1 - loss) * duplicate,
    );
    within(
      count((d) => d.reorder),
      n,
      (1 - loss) * reorder,
    );
    const delays = decisions.filter((d) => !d.drop).map((d) => d.delayMs);
    expect(Math.min(...delays)).toBe(3);
    expect(Math.max(...delays)).toBe(7);
    for (let ms = 3; ms <= 7; ms++)
      within(
        count((d) => !d.drop && d.delayMs === ms),
        n,
        (1 - loss) / 5,
      );
  });

  it("never duplicates, reorders or delays a dropped datagram", () => {
    for (const d of draw(5000, { loss: 0.5, duplicate: 1, reorder: 1, delayMs: 5, seed: 3 })) {
      if (d.drop) expect(d).toEqual({ drop: true, duplicate: false, reorder: false, delayMs: 0 });
      else expect(d).toEqual({ drop: false, duplicate: true, reorder: true, delayMs: 5 });
    }
  });

  it("drops everything at loss 1 and nothing at loss 0", () => {
    expect(draw(500, { loss: 1 }).every((d) => d.drop)).toBe(true);
    expect(draw(500, { loss: 0, duplicate: 1 }).every((d) => !d.drop && d.duplicate)).toBe(true);
  });

  it("rejects bad options with a RangeError or TypeError naming the option and the value", () => {
    expect(() => createImpairment({ loss: 1.5 })).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "loss" is out of range. It must be a number >= 0 && <= 1. Received 1.5',
      }),
    );
    expect(() => createImpairment({ duplicate: -0.1 })).toThrow(
      /^The value of "duplicate" is out of range\..* Received -0\.1$/,
    );
    expect(() => createImpairment({ reorder: Number.NaN })).toThrow(
      /^The value of "reorder" is out of range\..* Received NaN$/,
    );
    expect(() => createImpairment({ delayMs: -1 })).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "delayMs" is out of range. It must be an integer >= 0 && <= 2147483647. Received -1',
      }),
    );
    expect(() => createImpairment({ jitterMs: 0.5 })).toThrow(
      /^The value of "jitterMs" is out of range\..* Received 0\.5$/,
    );
    expect(() => createImpairment({ seed: -3 })).toThrow(
      /^The value of "seed" is out of range\..* Received -3$/,
    );
    expect(() => createImpairment({ loss: "0.1" as unknown as number })).toThrow(TypeError);
    expect(() => createImpairment({ direction: "up" as "to-server" })).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_VALUE",
        message: `The "direction" option must be one of: 'to-server', 'to-client'. Received 'up'`,
      }),
    );
  });
});
