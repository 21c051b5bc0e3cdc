import { describe, expect, test } from "vitest";
import { REQUEST_RETRIES } from "../src/settings.js";
import { runUdpRetryRow } from "../src/udp-retry-row.js";
import { QUICK } from "./_helpers.js";

describe("runUdpRetryRow", () => {
  test("delivers every message once and in order through a lossy link, with retries", async () => {
    const row = await runUdpRetryRow({ ...QUICK, count: 150, loss: 0.2, duplicate: 0.1, seed: 3 });

    expect(row).toMatchObject({
      sent: 150,
      delivered: 150,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      unanswered: 0,
      timeLimited: false,
    });
    expect(row.retries).toBeGreaterThan(0);
    // The tries went through the link (the last retry may still be on its way in when the
    // reply to an earlier try ends the request).
    expect(row.link.toServer.received).toBeGreaterThanOrEqual(150);
    expect(row.link.toServer.received).toBeLessThanOrEqual(150 + row.retries);
    expect(row.link.toServer.dropped).toBeGreaterThan(0);
    // Both copies of a duplicated request reach the server, which answers the second from its
    // cache instead of delivering the message twice.
    expect(row.link.toServer.duplicated).toBeGreaterThan(0);
    expect(row.repeatsAnswered).toBeGreaterThanOrEqual(row.link.toServer.duplicated);
  });

  test("delivers every message once on a perfect link, where the link drops nothing", async () => {
    const row = await runUdpRetryRow({ ...QUICK, count: 100, loss: 0, duplicate: 0, reorder: 0 });
    // Retries are not asserted: on a loaded machine a reply can be slower than the 10 ms
    // timeout, and that retry is answered from the server's cache, not delivered again.
    expect(row).toMatchObject({
      sent: 100,
      delivered: 100,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      unanswered: 0,
    });
    expect(row.link.toServer.dropped).toBe(0);
    expect(row.link.toClient.dropped).toBe(0);
    expect(row.repeatsAnswered).toBeLessThanOrEqual(row.retries);
  });

  test("gives up on a request after every try and counts it, when nothing gets through", async () => {
    const row = await runUdpRetryRow({ ...QUICK, count: 1, loss: 1 });
    expect(row).toMatchObject({ sent: 1, delivered: 0, lost: 1, unanswered: 1 });
    expect(row.retries).toBe(REQUEST_RETRIES);
  });
});
