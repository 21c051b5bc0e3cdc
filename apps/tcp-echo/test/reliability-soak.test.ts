/**
 * Soak: 100 clients × 10,000 messages each over TCP, through netsim's re-chunking relay (every
 * read cut into random pieces of 1–64 bytes, both ways), to the echo server. Every reply must
 * come back, in order, byte for byte; and once everything is closed, memory must be back where
 * it started. It asserts counts and bytes, never time.
 *
 * Runs in a file of its own, so that its worker's memory is its alone.
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { startChunkingRelay } from "@socket-lab/netsim";
import { describe, expect, test } from "vitest";
import { runClient } from "../src/client.js";
import { startServer } from "../src/server.js";

const CLIENTS = 100;
const MESSAGES = 10_000;

/**
 * How long a client waits for a reply while its messages are in flight. The relay turns the
 * first windows of all 100 clients (1,000 messages each, 2 MB in all) into about 60,000 writes
 * each way, in whatever order the sockets become ready: on a busy 2-core machine a client's
 * first reply came after up to 22 s, more than the client's default 10 s.
 */
const REPLY_TIMEOUT_MS = 300_000;

// Garbage collection on demand, without restarting the worker with --expose-gc.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap and buffer memory after a full collection, in bytes. */
function memoryAfterGc(): { heap: number; buffers: number } {
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, buffers: arrayBuffers };
}

/** Message n of client c: short, unique, and carrying a check of its own. */
function message(c: number, n: number): string {
  const body = `${c}.${n}.${(c * 7919 + n * 104_729) % 65_521}`;
  return `${body}|${body.length}`;
}

/** Runs `clients` clients of `count` messages each; returns per client how many replies matched. */
async function exchange(port: number, clients: number, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let matched = 0;
      const summary = await runClient({
        port,
        timeoutMs: REPLY_TIMEOUT_MS,
        messages: (function* () {
          for (let n = 1; n <= count; n++) yield message(c, n);
        })(),
        // Reply n must be message n: a lost, corrupted or reordered message breaks the match.
        onReply: ({ seq, message: sent, reply }) => {
          if (sent === message(c, seq) && reply === sent) matched += 1;
        },
      });
      expect(summary.messages).toBe(count);
      return matched;
    }),
  );
}

describe("soak through the re-chunking relay", () => {
  test(
    "100 clients × 10,000 messages: none lost, corrupted or reordered; memory flat at the end",
    async () => {
      // A backlog for 100 connects at once: the tutorial's 5 would make most of them wait for SYN retries.
      const server = await startServer({ port: 0, backlog: 511 });
      const relay = await startChunkingRelay({
        target: server.endpoint,
        chunking: { mode: "random", min: 1, max: 64 },
        seed: 9,
      });
      try {
        const port = relay.endpoint.transport === "unix" ? 0 : relay.endpoint.port;
        // Warm up (JIT, pools, lazily created structures), then measure from there.
        expect(await exchange(port, 10, 1_000)).toEqual(Array(10).fill(1_000));
        const before = memoryAfterGc();

        const matched = await exchange(port, CLIENTS, MESSAGES);
        expect(matched).toEqual(Array(CLIENTS).fill(MESSAGES));

        // The relay really re-cut the stream: far more writes than reads, both ways.
        const { toServer, toClient } = relay.stats;
        expect(toServer.chunks).toBeGreaterThan(2 * toServer.reads);
        expect(toClient.chunks).toBeGreaterThan(2 * toClient.reads);

        const after = memoryAfterGc();
        // A leak of even 8 bytes per message (1,000,000 of them) would show as 8 MB.
        expect(after.heap - before.heap).toBeLessThan(8 * 1024 * 1024);
        expect(after.buffers - before.buffers).toBeLessThan(8 * 1024 * 1024);
      } finally {
        await relay.close();
        await server.close();
      }
    },
    2 * REPLY_TIMEOUT_MS,
  );
});
