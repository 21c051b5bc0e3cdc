import { describe, expect, test } from "vitest";
import type { Settings } from "../src/settings.js";
import { runUdpRow } from "../src/udp-row.js";
import { predict, QUICK } from "./_helpers.js";

describe("runUdpRow", () => {
  test.each<Partial<Settings>>([
    {},
    { loss: 0.3, duplicate: 0.1, reorder: 0.2, seed: 7 },
    { loss: 0, duplicate: 0.5, reorder: 0.5, seed: 3, size: 16 },
    { loss: 0.02, duplicate: 0.02, reorder: 0.02, seed: 11, count: 2_000, size: 1_464 },
  ])("the receiver counts exactly what netsim's seeded plan injects: %o", async (change) => {
    const settings = { ...QUICK, ...change };
    const expected = predict(settings);
    const row = await runUdpRow(settings);

    expect(row.link).toEqual({
      received: settings.count,
      forwarded: settings.count - expected.dropped + expected.duplicated,
      dropped: expected.dropped,
      duplicated: expected.duplicated,
      reordered: expected.reordered,
    });
    expect(row).toMatchObject({
      sent: settings.count,
      delivered: settings.count - expected.dropped,
      lost: expected.dropped,
      duplicated: expected.duplicated,
      outOfOrder: expected.outOfOrder,
      retries: null,
      timeLimited: false,
    });
  });

  test("without impairments every datagram arrives once and in order", async () => {
    const row = await runUdpRow({ ...QUICK, loss: 0, duplicate: 0, reorder: 0 });
    expect(row).toMatchObject({ sent: 300, delivered: 300, lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(row.latencyMs?.p50).toBeGreaterThan(0);
  });

  test("when every datagram is dropped nothing is delivered and there is no latency", async () => {
    const row = await runUdpRow({ ...QUICK, count: 50, loss: 1 });
    expect(row).toMatchObject({ sent: 50, delivered: 0, lost: 50, latencyMs: null, elapsedMs: 0 });
    expect(row.link.dropped).toBe(50);
  });

  test("with delay and jitter the drops and duplicates still match exactly", async () => {
    const settings = { ...QUICK, delayMs: 1, jitterMs: 3, seed: 5 };
    const expected = predict(settings);
    const row = await runUdpRow(settings);
    expect(row.lost).toBe(expected.dropped);
    expect(row.duplicated).toBe(expected.duplicated);
    // Jitter lets datagrams overtake each other on its own; reordering is no longer all netsim's.
    expect(row.link.reordered).toBe(expected.reordered);
  });
});
