/**
 * Memory across 10,000 keep-alive requests, over HTTP and over HTTPS: once the server has warmed
 * up, serving 10,000 more requests on kept-alive connections leaves its memory where it was.
 * Runs in a file of its own (its own worker), with the server in this process so a full GC can
 * be asked for. The RSS figures, from the bench's web workload, are in BENCHMARKS.md.
 */

import { once } from "node:events";
import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { selfSignedCertificate } from "@socket-lab/tcp";
import { expect, test } from "vitest";
import { startServer } from "../src/server.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap and Buffer memory after a full collection, and RSS, in bytes. */
function memoryAfterGc() {
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers, rss } = process.memoryUsage();
  return { retained: heapUsed + arrayBuffers, rss };
}

const REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const CONNECTIONS = 10;
/** Requests written at once on a connection (pipelined), and answered before the next batch. */
const BATCH = 50;

/** A connected socket to 127.0.0.1:`port`, over TLS (trusting any certificate) or not. */
async function open(port: number, tls: boolean): Promise<Socket> {
  if (!tls) {
    const socket = connectTcp(port, "127.0.0.1");
    await once(socket, "connect");
    return socket;
  }
  const socket = connectTls({ port, host: "127.0.0.1", rejectUnauthorized: false });
  await once(socket, "secureConnect");
  return socket;
}

/** `total` requests spread over CONNECTIONS kept-alive connections; resolves with responses seen. */
async function load(port: number, tls: boolean, total: number): Promise<number> {
  const perConnection = total / CONNECTIONS;
  const answered = await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const socket = await open(port, tls);
      let responses = 0;
      let text = "";
      for (let sent = 0; sent < perConnection; sent += BATCH) {
        socket.write(REQUEST.repeat(BATCH));
        const target = sent + BATCH;
        while (responses < target) {
          const [chunk] = (await once(socket, "data")) as [Buffer];
          text += chunk.toString("latin1");
          // Count whole pages; keep the unfinished end for the next chunk.
          const pages = text.split("</html>\n");
          responses += pages.length - 1;
          text = pages.at(-1) ?? "";
        }
      }
      socket.end();
      return responses;
    }),
  );
  return answered.reduce((a, b) => a + b, 0);
}

test.each([
  ["HTTP", false],
  ["HTTPS", true],
])(
  "10,000 keep-alive requests over %s leave the server's memory flat (under 2 MB retained)",
  async (_, tls) => {
    const certificate = tls ? await selfSignedCertificate() : undefined;
    const server = await startServer({ port: 0, httpsPort: 0, certificate });
    const port = server.ports[tls ? 1 : 0] as number;
    try {
      expect(await load(port, tls, 2_000)).toBe(2_000); // warm-up: slabs, JIT, caches
      const before = memoryAfterGc();
      expect(await load(port, tls, 10_000)).toBe(10_000);
      const after = memoryAfterGc();
      const grown = after.retained - before.retained;
      // Keeping as little as 200 bytes per request would be 2 MB; the page alone is 600 bytes.
      expect(
        grown,
        `retained grew by ${grown} bytes; RSS ${before.rss} -> ${after.rss}`,
      ).toBeLessThan(2_000_000);
    } finally {
      await server.close();
    }
  },
  120_000,
);
