/**
 * runClient in this process, against replies that come late or twice, datagrams that are not
 * replies, and a flood of random datagrams at its port while it talks to a real server.
 */

import { type ChildProcess, fork } from "node:child_process";
import type { RemoteInfo, Socket } from "node:dgram";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { InetEndpoint } from "@socket-lab/core";
import { afterEach, describe, expect, test, vi } from "vitest";
import { runClient } from "../src/client.js";
import type { EchoReply } from "../src/client-options.js";
import { startServer } from "../src/server.js";
import type { EchoServer } from "../src/server-options.js";
import { useRawSockets } from "./_raw-sockets.js";
import { WAIT_MS } from "./_spawn.js";

/** The flooder program: random datagrams to a port, from a process of its own. */
const FLOOD = fileURLToPath(new URL("./_flood.mjs", import.meta.url));

const rawSocket = useRawSockets();
const servers: EchoServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Sends one datagram and waits until the OS took it, so datagrams keep their order. */
function sendTo(socket: Socket, data: string | Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(data, port, "127.0.0.1", (error) => (error ? reject(error) : resolve())),
  );
}

describe("runClient matches replies by sender and content", () => {
  test("late echoes of earlier messages and datagrams from other ports are ignored and counted; each message gets its own reply", async () => {
    const server = await rawSocket();
    const stranger = await rawSocket();
    const seen = new Map<string, number>();
    // A scripted server: the first try of "one" goes unanswered, so "one" is sent again. With
    // the first "two" come a late "one" and four datagrams from another port; with the first
    // "three", a second "two".
    server.on("message", async (data: Buffer, client: RemoteInfo) => {
      const text = data.toString();
      const n = (seen.get(text) ?? 0) + 1;
      seen.set(text, n);
      if (text === "one" && n === 1) return;
      if (text === "two" && n === 1) {
        await sendTo(server, "one", client.port);
        for (const junk of ["two", "", "\u0000\u00ff", "three"]) {
          await sendTo(stranger, junk, client.port);
        }
      }
      if (text === "three" && n === 1) await sendTo(server, "two", client.port);
      await sendTo(server, text, client.port);
    });
    const replies: EchoReply[] = [];
    const summary = await runClient({
      port: server.address().port,
      messages: ["one", "two", "three"],
      replyTimeoutMs: 200,
      retries: 10,
      onReply: (reply) => replies.push(reply),
    });
    expect(replies.map(({ message, reply }) => [message, reply])).toEqual([
      ["one", "one"],
      ["two", "two"],
      ["three", "three"],
    ]);
    // "one" after "two" was sent, "two" after "three" was: late. The stranger's four: garbage.
    // (On a slow machine a try may time out while its reply is on the way: one more echo of
    // "one" or "two", late too.)
    const extraEchoes = (seen.get("one") ?? 0) - 2 + (seen.get("two") ?? 0) - 1;
    expect(summary).toMatchObject({ messages: 3, late: 2 + extraEchoes, garbage: 4 });
    expect(replies[0]?.tries).toBeGreaterThanOrEqual(2);
  });

  test("expectEcho: only the message itself is its reply; other text from the server is garbage", async () => {
    const server = await rawSocket();
    server.on("message", async (data: Buffer, client: RemoteInfo) => {
      await sendTo(server, "Hello from server", client.port);
      await sendTo(server, data, client.port);
    });
    const port = server.address().port;
    const strict: string[] = [];
    const summary = await runClient({
      port,
      messages: ["hi"],
      replyTimeoutMs: WAIT_MS,
      expectEcho: true,
      onReply: ({ reply }) => strict.push(reply),
    });
    expect(strict).toEqual(["hi"]);
    expect(summary).toMatchObject({ late: 0, garbage: 1 });
    // Without it a server's fixed answer is the reply, as udp-echo-server --reply gives.
    const loose: string[] = [];
    await runClient({ port, messages: ["hi"], onReply: ({ reply }) => loose.push(reply) });
    expect(loose).toEqual(["Hello from server"]);
  });

  test("a flood of random datagrams at its port, from another process, while it talks to a real server: every reply is its message, the garbage counted", async () => {
    const server = await startServer({ port: 0 });
    servers.push(server);
    let flooder: ChildProcess | undefined;
    // The messages wait until the flood is on: it starts once the client's port is known.
    async function* messages() {
      await vi.waitFor(() => expect(flooder).toBeDefined(), { timeout: WAIT_MS });
      await once(flooder as ChildProcess, "message", { signal: AbortSignal.timeout(WAIT_MS) });
      for (let i = 1; i <= 300; i++) yield `message ${i}`;
    }
    const replies: EchoReply[] = [];
    try {
      const summary = await runClient({
        port: (server.endpoint as InetEndpoint).port,
        messages: messages(),
        replyTimeoutMs: 200,
        retries: 20,
        expectEcho: true,
        trace: (event) => {
          if (event.type !== "bind") return;
          // At most 2,000,000 datagrams; killed as soon as the client is done.
          const { port } = event.local as InetEndpoint;
          flooder = fork(FLOOD, [String(port), "2000000"], {
            stdio: ["ignore", "ignore", "inherit", "ipc"],
          });
        },
        onReply: (reply) => replies.push(reply),
      });
      expect(replies.map(({ reply }) => reply)).toEqual(
        Array.from({ length: 300 }, (_, i) => `message ${i + 1}`),
      );
      // Garbage reached the client while it talked: it was counted, not taken for replies.
      expect(summary.garbage).toBeGreaterThan(1_000);
      expect(summary.late).toBeLessThanOrEqual(summary.retries);
    } finally {
      flooder?.kill();
    }
  });
});
