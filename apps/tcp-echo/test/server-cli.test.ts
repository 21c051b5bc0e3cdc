import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { runClient } from "../src/client.js";
import { inOrder, interrupt, run, startServer, stopAll } from "./_spawn.js";

afterEach(stopAll);

/** A raw TCP socket to the server, as nc or telnet would open. */
async function rawSocket(port: string): Promise<Socket> {
  const socket = connect(Number(port), "127.0.0.1");
  await once(socket, "connect");
  return socket;
}

/** Reads from a raw socket until `bytes` bytes have come (bounded by the test's timeout). */
async function readBytes(socket: Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of socket) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= bytes) break;
  }
  return Buffer.concat(chunks);
}

describe("tcp-echo-server", () => {
  test("serves 50 clients at once (runClient, in this process), and answers each in order", async () => {
    const { server, port } = await startServer();
    // Each client connects once the server has accepted the one before: a burst of 50 connects
    // would overflow the tutorial's backlog of 5 (see the README). Then all 50 talk at once.
    let release = () => {};
    const allConnected = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* messagesOf(i: number) {
      await allConnected;
      yield* [`client ${i} says 1`, `client ${i} says 2`, `client ${i} says 3`];
    }
    const clients: Promise<string[]>[] = [];
    for (let i = 0; i < 50; i += 1) {
      const replies: string[] = [];
      const client = runClient({
        port: Number(port),
        messages: messagesOf(i),
        onReply: ({ reply }) => replies.push(reply),
      }).then(() => replies);
      clients.push(client);
      await Promise.race([server.line(/ connected$/, i + 1), client]);
    }
    release();
    const replies = await Promise.all(clients);
    replies.forEach((got, i) => {
      expect(got).toEqual([`client ${i} says 1`, `client ${i} says 2`, `client ${i} says 3`]);
    });
    const stopped = await interrupt(server);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout.trimEnd().split("\n").at(-1)).toBe(
      "stopped: 50 connections, 150 messages",
    );
  });

  test("--trace prints the socket story in order: socket, bind, listen, accept, recv, send, close", async () => {
    const { server, port } = await startServer(["--trace"]);
    expect((await run("client-cli", ["--port", port])).code).toBe(0);
    const stopped = await interrupt(server);
    const err = stopped.stderr;
    const fd = /^socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = (\d+)$/m.exec(err)?.[1];
    const client = new RegExp(`^accept\\(${fd}\\) = (\\d+) \\(127\\.0\\.0\\.1:\\d+\\)$`, "m").exec(
      err,
    )?.[1];
    // accept() returns a new socket, with a descriptor of its own.
    expect(fd).toBeDefined();
    expect(client).toBeDefined();
    expect(client).not.toBe(fd);
    inOrder(err.split("\n"), [
      new RegExp(`^bind\\(${fd}, 127\\.0\\.0\\.1:${port}\\)$`),
      new RegExp(`^listen\\(${fd}, 5\\)$`),
      new RegExp(`^accept\\(${fd}\\) = ${client} `),
      new RegExp(`^recv\\(${client}\\) = 18$`), // "Hello from client\n"
      new RegExp(`^send\\(${client}, 18 bytes\\)$`),
      new RegExp(`^recv\\(${client}\\) = 0 \\(end of stream\\)$`), // the client's shutdown
      new RegExp(`^shutdown\\(${client}, SHUT_WR\\)$`), // and ours
      new RegExp(`^close\\(${client}\\)$`),
      new RegExp(`^close\\(${fd}\\)$`), // the listening socket
    ]);
  });

  test("--backlog sets the listen() queue length", async () => {
    const { server } = await startServer(["--trace", "--backlog", "7"]);
    const stopped = await interrupt(server);
    expect(stopped.stderr).toMatch(/^listen\(\d+, 7\)$/m);
  });

  test("--max-connections turns one client too many away, and both sides say so", async () => {
    const { server, port } = await startServer(["--max-connections", "1"]);
    const holder = await rawSocket(port);
    await server.line(/ connected$/);
    const turnedAway = await run("client-cli", ["--port", port]);
    expect(turnedAway.code).toBe(1);
    expect(turnedAway.stderr).toMatch(
      /^tcp-echo-client: 127\.0\.0\.1:\d+ closed the connection after 0 of 1 replies\. .*--max-connections/,
    );
    await server.line(/ rejected: 1 client already connected \(--max-connections\)$/);
    holder.destroy();
    const stopped = await interrupt(server);
    expect(stopped.stdout).toContain("stopped: 1 connection (1 rejected), 0 messages\n");
  });

  test("--idle-timeout (seconds) closes a client that says nothing", async () => {
    const { server, port } = await startServer(["--idle-timeout", "0.2"]);
    const silent = await rawSocket(port);
    silent.resume();
    await once(silent, "close");
    await server.line(/^127\.0\.0\.1:\d+: connection to .* was idle for 200 ms and was closed$/);
  });

  test("speaks what nc and telnet send: lines ending in \\r\\n or \\n, in any pieces", async () => {
    const { port } = await startServer();
    const socket = await rawSocket(port);
    for (const byte of Buffer.from("tel\r\nnet\nline")) socket.write(Buffer.of(byte));
    socket.end("\n");
    expect((await readBytes(socket, 14)).toString()).toBe("tel\nnet\nline\n");
  });

  test("--framing length: a u32 big-endian length before each message, bytes echoed exactly", async () => {
    const { port } = await startServer(["--framing", "length"]);
    const socket = await rawSocket(port);
    const payload = Buffer.from([0, 1, 2, 0xff, 0x0a, 0xfe]);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, payload.length]), payload]);
    socket.write(frame);
    expect(await readBytes(socket, frame.length)).toEqual(frame);
    socket.destroy();

    const client = await run("client-cli", ["--port", port, "--framing", "length", "-m", "hi"]);
    expect(client).toMatchObject({ code: 0, stdout: "hi\n" });
  });
});
