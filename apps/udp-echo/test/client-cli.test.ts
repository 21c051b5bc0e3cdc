import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { afterEach, describe, expect, test } from "vitest";
import { inOrder, run, startServer, stopAll } from "./_spawn.js";

const sockets = new Set<Socket>();
afterEach(() => {
  stopAll();
  for (const socket of sockets) socket.close();
  sockets.clear();
});

/** A UDP socket on 127.0.0.1 and a free port. */
async function udpSocket(): Promise<{ socket: Socket; port: string }> {
  const socket = createSocket("udp4");
  sockets.add(socket);
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  return { socket, port: String(socket.address().port) };
}

/** A port nothing is bound to: bound a moment ago, then closed. */
async function closedPort(): Promise<string> {
  const { socket, port } = await udpSocket();
  sockets.delete(socket);
  socket.close();
  await once(socket, "close");
  return port;
}

describe("udp-echo-client", () => {
  test("--message goes out as one raw datagram: the text alone", async () => {
    const { socket, port } = await udpSocket();
    socket.on("message", (data, from) => socket.send(data, from.port, from.address));
    const received = once(socket, "message");
    expect(await run("client-cli", ["--port", port, "--message", "Hi there"])).toMatchObject({
      code: 0,
      stdout: "Hi there\n",
    });
    const [data] = (await received) as [Buffer];
    expect(data.toString()).toBe("Hi there"); // no header, no line break: what nc -u -l prints
  });

  test("a lost datagram is sent again after --timeout, and the reply still comes", async () => {
    // A server that drops the first datagram, as a lossy network would, then echoes.
    const { socket, port } = await udpSocket();
    let seen = 0;
    socket.on("message", (data, from) => {
      seen += 1;
      if (seen > 1) socket.send(data, from.port, from.address);
    });
    const client = await run("client-cli", ["--port", port, "--timeout", "0.2", "--json"]);
    expect(client.code).toBe(0);
    expect(JSON.parse(client.stdout)).toEqual({
      event: "reply",
      seq: 1,
      message: "Hello from client",
      reply: "Hello from client",
      tries: 2,
    });
  });

  test("no server: after every retry it says plainly that no reply came, and exits 1", async () => {
    const port = await closedPort();
    const client = await run("client-cli", ["--port", port, "--timeout", "0.1", "--retries", "2"]);
    expect(client.code).toBe(1);
    expect(client.stdout).toBe("");
    expect(client.stderr).toMatch(
      new RegExp(
        `^udp-echo-client: no reply from 127\\.0\\.0\\.1:${port} after 3 tries over [\\d.]+ s\\. Is udp-echo-server running\\? Start one with: pnpm udp:server`,
      ),
    );
    expect(client.stderr.split("\n")).toHaveLength(2); // one line, no stack trace
  });

  test("--trace prints the client's side in order: socket, bind, sendto, recvfrom, close", async () => {
    const { port } = await startServer();
    const client = await run("client-cli", ["--port", port, "--trace"]);
    expect(client.code).toBe(0);
    const lines = client.stderr.split("\n");
    const fd = /^socket\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\) = (\d+)$/m.exec(client.stderr)?.[1];
    expect(fd).toBeDefined();
    inOrder(lines, [
      new RegExp(`^socket\\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\\) = ${fd}$`),
      new RegExp(`^bind\\(${fd}, 127\\.0\\.0\\.1:\\d+\\)$`),
      new RegExp(`^sendto\\(${fd}, 17 bytes, 127\\.0\\.0\\.1:${port}\\)$`),
      new RegExp(`^recvfrom\\(${fd}\\) = 17 \\(127\\.0\\.0\\.1:${port}\\)$`),
      new RegExp(`^close\\(${fd}\\)$`),
    ]);
    // No connect(): a datagram is simply addressed and sent.
    expect(lines.filter((line) => line.startsWith("connect"))).toEqual([]);
  });
});
