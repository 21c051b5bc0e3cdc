/**
 * A process that does not run for a while (a busy machine, a debugger, a GC pause) runs its due
 * timers before it reads its sockets. A connection's deadlines must not fail a peer whose bytes
 * arrived in time and are only waiting to be read: they decide after that turn's I/O.
 */

import { once } from "node:events";
import net from "node:net";
import type { SocketError, TraceEvent } from "@socket-lab/core";
import { notRunning, withDeadlineNotYetDue } from "@socket-lab/test-utils/frozen";
import { expect, it } from "vitest";
import { type Connection, connect } from "../src/index.js";
import { startServer, until, within } from "./_sockets.js";

/** A raw client, and the server's side of its connection, once accepted. */
async function connected(options: { idleTimeoutMs?: number; frameTimeoutMs?: number }) {
  const server = await startServer<string>("tcp://127.0.0.1:0", options);
  const accepted = server[Symbol.asyncIterator]().next();
  const { port } = server.endpoint as { port: number };
  const client = net.connect(port, "127.0.0.1");
  client.on("error", () => {}); // a failing run resets it
  await within(once(client, "connect"), "the connection");
  const { value } = await within(accepted, "the accept");
  const connection = value as Connection<string>;
  return { client, connection, messages: connection[Symbol.asyncIterator]() };
}

it("idle timeout: a line sent before the process stopped running is read, not timed out", async () => {
  const lines = await withDeadlineNotYetDue(async (timeoutMs) => {
    const since = performance.now(); // before the idle clock starts, at the accept
    const { client, messages } = await connected({ idleTimeoutMs: timeoutMs });
    client.write("hello\n");
    if (performance.now() - since >= timeoutMs) return undefined;
    notRunning(3 * timeoutMs);
    const first = (await within(messages.next(), "the line")).value;
    // And the connection goes on.
    client.write("again\n");
    const second = (await within(messages.next(), "the next line")).value;
    client.destroy();
    return [first, second];
  });
  expect(lines).toEqual(["hello", "again"]);
});

it("frame timeout: the end of a line sent before the process stopped running completes it", async () => {
  const line = await withDeadlineNotYetDue(async (timeoutMs) => {
    const { client, connection, messages } = await connected({ frameTimeoutMs: timeoutMs });
    const next = messages.next();
    next.catch(() => {}); // a run too slow to set up may see it time out
    const since = performance.now(); // before the frame clock starts, at the read
    client.write("hel");
    await until(() => connection.stats.bytesReceived === 3, "the first piece read");
    client.write("lo\n");
    if (performance.now() - since >= timeoutMs) {
      client.destroy();
      return undefined;
    }
    notRunning(3 * timeoutMs);
    const { value } = await within(next, "the line");
    client.destroy();
    return value;
  });
  expect(line).toBe("hello");
});

it("connect timeout: a connect the kernel completed while the process did not run succeeds", async () => {
  const server = await startServer<string>("tcp://127.0.0.1:0", {});
  const outcome = await withDeadlineNotYetDue(async (timeoutMs) => {
    const since = performance.now(); // before the connect clock starts
    let frozen = false;
    // The trace's connect event comes right after connect(2) was called.
    const trace = (event: TraceEvent) => {
      if (event.type !== "connect" || performance.now() - since >= timeoutMs) return;
      frozen = true;
      notRunning(3 * timeoutMs);
    };
    const result = await connect(server.endpoint, { connectTimeoutMs: timeoutMs, trace }).then(
      async (connection) => {
        await connection.close({ timeoutMs: 0 });
        return "connected";
      },
      (error: SocketError) => error.code,
    );
    return frozen ? result : undefined;
  });
  expect(outcome).toBe("connected");
});
