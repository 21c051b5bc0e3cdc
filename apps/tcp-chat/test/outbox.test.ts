/**
 * The Outbox's stall clock against the event loop's order: a process that did not run for
 * longer than the stall timeout runs its due timers before it reads its sockets.
 */

import { once } from "node:events";
import { createServer, connect as netConnect, type Socket } from "node:net";
import type { Connection } from "@socket-lab/tcp";
import { notRunning } from "@socket-lab/test-utils/frozen";
import { afterEach, expect, test } from "vitest";
import { Outbox } from "../src/outbox.js";
import { WAIT_MS, within } from "./_helpers.js";

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

/** Two ends of a loopback TCP connection. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const accepted = once(server, "connection");
  const client = netConnect(address.port, "127.0.0.1");
  const [serverSide] = (await within(accepted, WAIT_MS, "the accept")) as [Socket];
  server.close();
  sockets.push(client, serverSide);
  return [client, serverSide];
}

test("a member whose chunk the kernel took while the process did not run is not dropped", async () => {
  // The kernel taking the chunk is, to this process, an I/O event: here the `data` that `wire`
  // brings, which settles the fake connection's drain() as a socket's 'drain' would.
  const [wire, far] = await socketPair();
  const taken = new Promise<void>((resolve) => wire.once("data", () => resolve()));
  const connection = { write: () => true, drain: () => taken } as unknown as Connection<string>;
  const STALL_MS = 20;
  let stalls = 0;
  const outbox = new Outbox(connection, {
    limitBytes: 100,
    limitLines: 100,
    stallTimeoutMs: STALL_MS,
    onStall: () => {
      stalls += 1;
    },
  });
  outbox.push(`${"x".repeat(99)}`, 100); // handed to the connection at once: the queue is full
  expect(outbox.hasRoom(1)).toBe(false);
  const progressed = outbox.progress(); // a sender waits; the stall clock runs

  // The kernel takes the chunk, and the process does not run for longer than the stall
  // timeout: both the stall timer and the I/O are due when the event loop goes on.
  // (Nothing waits between progress() and here: the stall timer cannot have fired before.)
  far.write("taken");
  notRunning(10 * STALL_MS);

  await within(progressed, WAIT_MS, "the progress the kernel made");
  // One more turn: a stall decided in the timers phase would have run by now.
  await new Promise((resolve) => setImmediate(resolve));
  expect(stalls).toBe(0);
  expect(outbox.hasRoom(100)).toBe(true);
});
