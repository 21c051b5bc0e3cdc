/**
 * startServer in this process, against what would loop it: a datagram from its own address,
 * another echo server, one sender flooding it. The server's own socket is caught as it is
 * bound (bind wrapped by vi.mock), so a test can send from it: the faithful form of a datagram
 * whose source is forged to be the server itself, which loopback cannot forge otherwise.
 */

import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import type { UdpSocket } from "@socket-lab/udp";
import { afterEach, describe, expect, test, vi } from "vitest";
import { startServer } from "../src/server.js";
import type { EchoServer, EchoServerEvent } from "../src/server-options.js";
import { WAIT_MS } from "./_spawn.js";

const bound = vi.hoisted(() => [] as UdpSocket[]);
vi.mock("@socket-lab/udp", async (importOriginal) => {
  const udp = await importOriginal<typeof import("@socket-lab/udp")>();
  return {
    ...udp,
    bind: async (...args: Parameters<typeof udp.bind>) => {
      const socket = await udp.bind(...args);
      bound.push(socket);
      return socket;
    },
  };
});

const servers: EchoServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  bound.length = 0;
});

/** A started server on 127.0.0.1, its own socket, and the events it emits. */
async function serve(options: Parameters<typeof startServer>[0] = {}) {
  const events: EchoServerEvent[] = [];
  const server = await startServer({ port: 0, ...options, onEvent: (e) => events.push(e) });
  servers.push(server);
  const own = bound.at(-1) as UdpSocket;
  const held = (reason: string) =>
    events.filter((event) => event.type === "held" && event.reason === reason);
  return { server, own, events, held };
}

/** A plain client socket on 127.0.0.1 and everything it receives. */
async function client() {
  const socket = createSocket("udp4");
  sockets.push(socket);
  const received: string[] = [];
  socket.on("message", (data) => received.push(data.toString()));
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  /** Sends `text` and waits (bounded) until `replies` replies have come in all. */
  const exchange = async (port: number, text: string, replies = received.length + 1) => {
    socket.send(text, port, "127.0.0.1");
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(replies), {
      timeout: WAIT_MS,
    });
  };
  return { socket, received, exchange };
}

describe("startServer against loops and floods", () => {
  test("a datagram from its own address (sent from its own socket) is not answered: no loop", async () => {
    const { server, own, held } = await serve();
    await own.send("loop?", own.local);
    await vi.waitFor(() => expect(held("own-address")).toHaveLength(1), { timeout: WAIT_MS });
    // Datagrams are taken in order: once a later one is answered, the first was dealt with.
    const peer = await client();
    await peer.exchange(own.local.port, "still here");
    expect(peer.received).toEqual(["still here"]);
    const summary = await server.close();
    // Without the check the first datagram echoes itself thousands of times a second.
    expect(summary).toMatchObject({
      messages: 2,
      held: { "own-address": 1, "echo-storm": 0, "rate-limit": 0 },
    });
    expect(held("own-address")[0]).toMatchObject({ from: own.local, count: 1 });
  });

  test("two echo servers pointed at each other stop within 2 × (16 + 1) datagrams", async () => {
    const a = await serve();
    const b = await serve();
    // B's socket sends A one datagram, as if B were answering A: the ping-pong starts.
    await b.own.send("ping", a.own.local);
    const storms = () => [...a.held("echo-storm"), ...b.held("echo-storm")];
    await vi.waitFor(() => expect(storms()).toHaveLength(1), { timeout: WAIT_MS });
    // Both still answer everyone else; each sync exchange also shows the loop is over.
    const peer = await client();
    await peer.exchange(a.own.local.port, "to a");
    await peer.exchange(b.own.local.port, "to b");
    const [sa, sb] = [await a.server.close(), await b.server.close()];
    // 16 repeats answered on each side, the 17th held back; plus the two sync messages.
    expect(sa.messages + sb.messages).toBeLessThanOrEqual(2 * (16 + 1) + 2);
    expect(sa.held["echo-storm"] + sb.held["echo-storm"]).toBe(1);
    expect(storms()[0]).toMatchObject({ count: 1 });
    expect(peer.received).toEqual(["to a", "to b"]);
  });

  test("one sender gets at most replyBurst replies when its rate allows no more; reported in few lines", async () => {
    // A rate of one reply per 10⁶ s: nothing refills during the test, so the count is exact.
    const { server, own, held } = await serve({ replyBurst: 10, replyRate: 1e-6 });
    const flooder = await client();
    for (let i = 0; i < 50; i++) flooder.socket.send(`flood ${i}`, own.local.port, "127.0.0.1");
    await vi.waitFor(() => expect(flooder.received).toHaveLength(10), { timeout: WAIT_MS });
    // Another sender has its own bucket; its reply also shows all 50 were dealt with.
    const other = await client();
    await other.exchange(own.local.port, "me too");
    const summary = await server.close();
    expect(summary.held["rate-limit"]).toBe(40);
    expect(flooder.received).toEqual(Array.from({ length: 10 }, (_, i) => `flood ${i}`));
    // The first hold is reported at once; the rest are summed into at most one line a second.
    const lines = held("rate-limit");
    expect(lines[0]).toMatchObject({ count: 1 });
    expect(lines.length).toBeLessThan(40);
  });

  test.each([
    [
      { replyRate: 0 },
      'The value of "replyRate" is out of range. It must be a number > 0. Received 0',
    ],
    [
      { replyBurst: 0.5 },
      'The value of "replyBurst" is out of range. It must be an integer >= 1. Received 0.5',
    ],
    [
      { echoStormRepeats: 0 },
      'The value of "echoStormRepeats" is out of range. It must be an integer >= 1. Received 0',
    ],
  ])("rejects %j", async (options, message) => {
    await expect(startServer({ port: 0, ...options })).rejects.toThrow(
      expect.objectContaining({ name: "RangeError", code: "ERR_OUT_OF_RANGE", message }),
    );
  });
});
