import { describe, expect, test } from "vitest";
import { runReliableRow } from "../src/reliable-row.js";
import { QUICK } from "./_helpers.js";

describe("runReliableRow", () => {
  test("delivers every message once and in order through a lossy link, resending only what is missing", async () => {
    // 1 MB: about 32 datagrams of 32 KiB (loopback packing), so the 20 % loss hits data
    // datagrams, not only the handshake (300 × 64 B fit in one datagram).
    const count = 1_000;
    const row = await runReliableRow({
      ...QUICK,
      count,
      size: 1_024,
      loss: 0.2,
      duplicate: 0.1,
      seed: 3,
    });
    expect(row).toMatchObject({
      sent: count,
      delivered: count,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      timeLimited: false,
    });
    // Every data datagram the link dropped had to be sent again (ACKs lost need not be).
    expect(row.link.toServer.dropped).toBeGreaterThan(0);
    expect(row.retries).toBeGreaterThan(0);
    expect(row.sender.retransmissions).toBe(row.retries);
    // Selective repeat: the data datagrams are the messages plus the retransmissions (and the
    // handshake, probes and the FIN), nowhere near a window per loss.
    expect(row.link.toServer.received, JSON.stringify(row)).toBeLessThan(2 * count);
    expect(row.sender.rtoMs).toBeGreaterThan(0);
    expect(row.sender.cwnd).toBeGreaterThanOrEqual(1);
  });

  test("on a perfect link nothing is lost and little is resent", async () => {
    const row = await runReliableRow({ ...QUICK, count: 200, loss: 0, duplicate: 0, reorder: 0 });
    expect(row).toMatchObject({ sent: 200, delivered: 200, lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(row.link.toServer.dropped).toBe(0);
  });

  test("reports no connection, not a crash, when nothing gets through", async () => {
    const row = await runReliableRow({ ...QUICK, count: 5, loss: 1 });
    expect(row).toMatchObject({ sent: 0, delivered: 0 });
  }, 30_000);
});
