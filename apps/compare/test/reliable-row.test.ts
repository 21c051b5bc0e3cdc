import { describe, expect, test } from "vitest";
import { runReliableRow } from "../src/reliable-row.js";
import { QUICK } from "./_helpers.js";

describe("runReliableRow", () => {
  test("delivers every message once and in order through a lossy link, resending only what is missing", async () => {
    const row = await runReliableRow({ ...QUICK, count: 300, loss: 0.2, duplicate: 0.1, seed: 3 });
    expect(row).toMatchObject({
      sent: 300,
      delivered: 300,
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
    expect(row.link.toServer.received, JSON.stringify(row)).toBeLessThan(2 * 300);
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
