/**
 * A process that does not run for a while (a busy machine, a debugger, a GC pause) runs its due
 * timers before it reads its sockets. A connection's deadlines must not fail a peer whose bytes
 * arrived in time and are only waiting to be read: they decide after that turn's I/O.
 */

import { once } from "node:events";
import net from "node:net";
import { expect, it } from "vitest";
import type { Connection } from "../src/index.js";
import { startServer, until, within } from "./_sockets.js";

const TIMEOUT_MS = 50;

/** A raw client, and the server's side of its connection, once accepted. */
async function connected(options: { idleTimeoutMs?: number; frameTimeoutMs?: number }) {
  const server = await startServer<string>("tcp://127.0.0.1:0", options);
  const accepted = server[Symbol.asyncIterator]().next();
  const { port } = server.endpoint as { port: number };
  const client = net.connect(port, "127.0.0.1");
  client.on("error", () => {}); // a failing run resets it
  await within(once(client, "connect"), "the connection");
  const { value } = await within(accepted, "the accept");
  return { client, connection: value as Connection<string> };
}

/** Blocks this process well past TIMEOUT_MS, as a descheduled process would be. */
function notRunning(): void {
  const since = Date.now();
  while (Date.now() - since <= 10 * TIMEOUT_MS) {
    // loopback has surely delivered what was written just before
  }
}

it("idle timeout: a line sent before the process stopped running is read, not timed out", async () => {
  const { client, connection } = await connected({ idleTimeoutMs: TIMEOUT_MS });
  const messages = connection[Symbol.asyncIterator]();
  client.write("hello\n");
  notRunning();
  expect((await within(messages.next(), "the line")).value).toBe("hello");
  // And the connection goes on.
  client.write("again\n");
  expect((await within(messages.next(), "the next line")).value).toBe("again");
  client.destroy();
});

it("frame timeout: the end of a line sent before the process stopped running completes it", async () => {
  const { client, connection } = await connected({ frameTimeoutMs: TIMEOUT_MS });
  const messages = connection[Symbol.asyncIterator]();
  const next = messages.next();
  client.write("hel");
  await until(() => connection.stats.bytesReceived === 3, "the first piece read");
  client.write("lo\n");
  notRunning();
  expect((await within(next, "the line")).value).toBe("hello");
  client.destroy();
});
