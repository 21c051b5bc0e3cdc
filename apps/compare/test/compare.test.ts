import { describe, expect, test } from "vitest";
import { type CompareOptions, runComparison } from "../src/compare.js";
import type { RowResult } from "../src/internal/row.js";
import { predict, QUICK } from "./_helpers.js";

/** The counts of a run: everything but times, which no two runs share. */
function counts(result: Awaited<ReturnType<typeof runComparison>>) {
  const pick = ({ sent, delivered, lost, duplicated, outOfOrder }: RowResult) => ({
    sent,
    delivered,
    lost,
    duplicated,
    outOfOrder,
  });
  return {
    tcp: pick(result.tcp),
    udp: { ...pick(result.udp), link: result.udp.link },
    udpRetries: pick(result.udpRetries),
    udpWindow: pick(result.udpWindow),
    crossCheck: result.crossCheck,
  };
}

describe("runComparison", () => {
  test("runs the four rows, the cross-check holds, and the same seed gives the same counts", async () => {
    const options = { ...QUICK, count: 200, seed: 1234 };
    const first = await runComparison(options);
    const second = await runComparison(options);

    expect(counts(second)).toEqual(counts(first));
    const expected = predict(options);
    expect(first.crossCheck).toEqual({
      lost: expected.dropped,
      dropped: expected.dropped,
      duplicated: expected.duplicated,
      duplicatesInjected: expected.duplicated,
      ok: true,
    });
    expect(first.tcp).toMatchObject({ delivered: 200, lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(first.udpRetries).toMatchObject({ delivered: 200, lost: 0, duplicated: 0 });
    expect(first.udpWindow).toMatchObject({
      delivered: 200,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
    });
    expect(first.settings).toEqual(options);
    expect(first.kernel).toBeNull();
  });

  test("keeps what the pictures need: every receipt, the latency CDF, each resend", async () => {
    const result = await runComparison({ ...QUICK, count: 200, seed: 99 });
    expect(result.tcp.arrivals.seq).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const row of [result.tcp, result.udp, result.udpRetries]) {
      expect(row.arrivals.seq).toHaveLength(row.delivered + row.duplicated);
      expect(row.arrivals.atMs).toHaveLength(row.arrivals.seq.length);
      expect([...row.arrivals.atMs].sort((a, b) => a - b)).toEqual(row.arrivals.atMs);
      expect(row.latencyCdfMs).toHaveLength(101);
      expect(row.latencyCdfMs[50]).toBe(row.latencyMs?.p50);
      expect(row.latencyCdfMs[99]).toBe(row.latencyMs?.p99);
    }
    expect(new Set(result.udp.arrivals.seq).size).toBe(result.udp.delivered);
    expect(result.udpRetries.retries).toBeGreaterThan(0);
    expect(result.udpRetries.resendsAtMs).toHaveLength(result.udpRetries.retries);
  });

  test("reports each row's progress up to its count", async () => {
    const seen = new Map<string, number[]>();
    await runComparison({
      ...QUICK,
      count: 40,
      onProgress: (row, sent, count) => {
        expect(count).toBe(40);
        seen.set(row, [...(seen.get(row) ?? []), sent]);
      },
    });
    expect([...seen.keys()]).toEqual(["tcp", "udp", "udpRetries", "udpWindow"]);
    for (const steps of seen.values()) {
      expect(steps).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }
  });

  test("stops with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    const run = runComparison({
      ...QUICK,
      count: 100_000,
      signal: controller.signal,
      onProgress: (_, sent) => {
        if (sent === 100) controller.abort(reason);
      },
    });
    await expect(run).rejects.toBe(reason);
  });

  test.each<[CompareOptions, RegExp]>([
    [{ count: 0 }, /^The value of "count" is out of range\. .* Received 0$/],
    [{ count: 2.5 }, /^The value of "count" is out of range\. It must be an integer/],
    [
      { size: 15 },
      /^The value of "size" is out of range\. It must be an integer >= 16 && <= 1464\. Received 15$/,
    ],
    [{ size: 1_465 }, /^The value of "size" .* Received 1465$/],
    [
      { loss: 1.5 },
      /^The value of "loss" is out of range\. It must be a number >= 0 && <= 1\. Received 1\.5$/,
    ],
    [{ duplicate: -0.1 }, /^The value of "duplicate"/],
    [{ reorder: Number.NaN }, /^The value of "reorder"/],
    [{ delayMs: 1.5 }, /^The value of "delayMs" is out of range\. It must be an integer/],
    [{ jitterMs: -1 }, /^The value of "jitterMs"/],
    [{ seed: 2 ** 32 }, /^The value of "seed"/],
  ])("rejects %o with ERR_OUT_OF_RANGE naming the option", async (options, message) => {
    const error = await runComparison(options).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({
      code: "ERR_OUT_OF_RANGE",
      message: expect.stringMatching(message),
    });
  });

  test("rejects an unknown chunking with ERR_INVALID_ARG_VALUE", async () => {
    const error = await runComparison({ chunking: "lines" as "bytes" }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({
      code: "ERR_INVALID_ARG_VALUE",
      message: `The "chunking" option must be one of: 'random', 'bytes', 'coalesce'. Received 'lines'`,
    });
  });

  test("rejects a value of the wrong type with a TypeError", async () => {
    await expect(runComparison({ count: "5" as unknown as number })).rejects.toThrow(TypeError);
  });
});
