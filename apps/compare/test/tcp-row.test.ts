import { describe, expect, test } from "vitest";
import { CHUNKING_NAMES } from "../src/settings.js";
import { runTcpRow } from "../src/tcp-row.js";
import { QUICK } from "./_helpers.js";

/** Bytes on the wire: each message and its 4-byte length prefix. */
const streamBytes = (count: number, size: number) => count * (size + 4);

describe("runTcpRow", () => {
  test.each(CHUNKING_NAMES)(
    "is lossless when the relay re-cuts the stream (%s)",
    async (chunking) => {
      // Single bytes are slow to relay, so fewer of them.
      const settings = { ...QUICK, chunking, count: chunking === "bytes" ? 100 : 500 };
      const row = await runTcpRow(settings);

      expect(row).toMatchObject({
        sent: settings.count,
        delivered: settings.count,
        lost: 0,
        duplicated: 0,
        outOfOrder: 0,
        retries: null,
        timeLimited: false,
      });
      const bytes = streamBytes(settings.count, settings.size);
      expect(row.stream.bytes).toBe(bytes);
      // The relay really re-cut the stream, each mode its own way.
      if (chunking === "bytes") expect(row.stream.relayPieces).toBe(bytes);
      if (chunking === "random") {
        // Pieces of at most 2 × size bytes: at least this many.
        expect(row.stream.relayPieces).toBeGreaterThanOrEqual(
          Math.ceil(bytes / (2 * settings.size)),
        );
        expect(row.stream.relayPieces).toBeGreaterThan(row.stream.relayReads);
      }
      // Pieces of 8 messages and more: far fewer pieces than messages.
      if (chunking === "coalesce") expect(row.stream.relayPieces).toBeLessThan(settings.count);
      expect(row.stream.clientWrites).toBeGreaterThan(0);
      expect(row.stream.serverReads).toBeGreaterThan(0);
    },
  );

  test("is lossless whatever the loss and the seed say: they are for datagrams", async () => {
    const row = await runTcpRow({ ...QUICK, loss: 1, duplicate: 1, reorder: 1, seed: 9 });
    expect(row).toMatchObject({ delivered: 300, lost: 0, duplicated: 0, outOfOrder: 0 });
  });

  test("carries the smallest and the largest messages, and a delayed stream", async () => {
    for (const change of [{ size: 16 }, { size: 1_464, delayMs: 2 }]) {
      const row = await runTcpRow({ ...QUICK, count: 100, ...change });
      expect(row).toMatchObject({ delivered: 100, lost: 0, duplicated: 0, outOfOrder: 0 });
    }
  });
});
