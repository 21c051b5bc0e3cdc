import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { afterEach, describe, expect, test } from "vitest";
import { runClient } from "../src/client.js";
import { inOrder, interrupt, run, startServer, stopAll, WAIT_MS } from "./_spawn.js";

const sockets = new Set<Socket>();
afterEach(() => {
  stopAll();
  for (const socket of sockets) socket.close();
  sockets.clear();
});

/** Sends one raw datagram, as `nc -u` does, and returns the one that comes back. */
async function exchange(port: string, payload: string): Promise<Buffer> {
  const socket = createSocket("udp4");
  sockets.add(socket);
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const reply = once(socket, "message");
  socket.send(payload, Number(port), "127.0.0.1");
  const [data] = (await reply) as [Buffer];
  return data;
}

describe("udp-echo-server", () => {
  test("never replies with more bytes than it received, unless --max-amplification allows it", async () => {
    const strict = await startServer(["--reply", "Hello from server"]);
    const short = await run("client-cli", [
      ...["--port", strict.port, "-m", "hi", "--timeout", "0.2", "--retries", "0"],
    ]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("no reply from 127.0.0.1");
    await strict.server.line(
      /^127\.0\.0\.1:\d+: "hi" — reply not sent: 17 bytes for 2 bytes received \(--max-amplification\)$/,
    );
    const stopped = await interrupt(strict.server);
    expect(stopped.stdout).toContain("stopped: 1 peer, 1 message, 1 reply not sent\n");

    const loose = await startServer(["--reply", "Hello from server", "--max-amplification", "10"]);
    expect(await run("client-cli", ["--port", loose.port, "-m", "hi"])).toMatchObject({
      code: 0,
      stdout: "Hello from server\n",
    });
  });

  test("talks to nc -u: a datagram with its \\n comes back whole; --reply keeps the \\n", async () => {
    const echo = await startServer();
    expect((await exchange(echo.port, "hello\n")).toString()).toBe("hello\n");
    await echo.server.line(/: "hello"$/);
    const fixed = await startServer(["--reply", "ok"]);
    expect((await exchange(fixed.port, "hello\n")).toString()).toBe("ok\n");
  });

  test("serves 50 concurrent clients (runClient, in this process), each answered in order", async () => {
    const { server, port } = await startServer();
    const clients = Array.from({ length: 50 }, async (_, i) => {
      const replies: string[] = [];
      await runClient({
        port: Number(port),
        messages: [`client ${i} says 1`, `client ${i} says 2`, `client ${i} says 3`],
        onReply: ({ reply }) => replies.push(reply),
      });
      return replies;
    });
    const replies = await Promise.all(clients);
    replies.forEach((got, i) => {
      expect(got).toEqual([`client ${i} says 1`, `client ${i} says 2`, `client ${i} says 3`]);
    });
    const stopped = await interrupt(server);
    expect(stopped.code).toBe(0);
    // A lost datagram is sent again, so there may be more than 150 on a busy machine.
    expect(stopped.stdout.trimEnd().split("\n").at(-1)).toMatch(
      /^stopped: 50 peers, \d+ messages$/,
    );
  });

  test("the same datagram 16 times in a row, each answered: the 17th is held back, said once, counted", async () => {
    const { server, port } = await startServer();
    const peer = createSocket("udp4");
    sockets.add(peer);
    peer.bind(0, "127.0.0.1");
    await once(peer, "listening");
    const ping = async () => {
      const reply = once(peer, "message", { signal: AbortSignal.timeout(WAIT_MS) });
      peer.send("ping", Number(port), "127.0.0.1");
      return String(((await reply) as [Buffer])[0]);
    };
    for (let i = 0; i < 16; i++) expect(await ping()).toBe("ping");
    peer.send("ping", Number(port), "127.0.0.1");
    await server.line(
      /^127\.0\.0\.1:\d+: 1 reply held back \(the same datagram again and again: another echo server\?\)$/,
    );
    // The next one cannot be a bounce of a reply (none was sent): answered again.
    expect(await ping()).toBe("ping");
    const stopped = await interrupt(server);
    expect(stopped.stdout).toMatch(/stopped: 1 peer, 18 messages, 1 reply held back\n$/);
  });

  test("--trace prints the datagram story in order: socket, bind, recvfrom, sendto, close", async () => {
    const { server, port } = await startServer(["--trace"]);
    expect((await run("client-cli", ["--port", port])).code).toBe(0);
    const stopped = await interrupt(server);
    const lines = stopped.stderr.split("\n");
    const fd = /^socket\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\) = (\d+)$/m.exec(stopped.stderr)?.[1];
    expect(fd).toBeDefined();
    inOrder(lines, [
      new RegExp(`^socket\\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\\) = ${fd}$`),
      new RegExp(`^bind\\(${fd}, 127\\.0\\.0\\.1:${port}\\)$`),
      new RegExp(`^recvfrom\\(${fd}\\) = 17 \\(127\\.0\\.0\\.1:\\d+\\)$`),
      new RegExp(`^sendto\\(${fd}, 17 bytes, 127\\.0\\.0\\.1:\\d+\\)$`),
      new RegExp(`^close\\(${fd}\\)$`),
    ]);
    // No listen() and no accept(): a datagram socket has no connections.
    expect(lines.filter((line) => /^(listen|accept)/.test(line))).toEqual([]);
  });
});
