import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { afterEach, describe, expect, test } from "vitest";
import { inOrder, interrupt, run, startServer, stopAll } from "./_spawn.js";

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
  test("with no stdin at all it sends 'Hello from client', prints the reply and exits 0", async () => {
    const { server, port } = await startServer();
    const client = await run("client-cli", ["--port", port], { stdin: "ignore" });
    expect(client).toMatchObject({ code: 0, stdout: "Hello from client\n", stderr: "" });
    await server.line(/: "Hello from client"$/);
  });

  test("an empty, closed stdin counts as no input: the default message again", async () => {
    const { port } = await startServer();
    expect(await run("client-cli", ["--port", port], { stdin: "" })).toMatchObject({
      code: 0,
      stdout: "Hello from client\n",
    });
  });

  test("--message sends that text instead, as one raw datagram", async () => {
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

  test("1,000 piped lines: 1,000 replies, in order, then exit 0", async () => {
    const { server, port } = await startServer();
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i + 1} ${"x".repeat(i % 50)}`);
    const client = await run("client-cli", ["--port", port], { stdin: `${lines.join("\n")}\n` });
    expect(client.code).toBe(0);
    expect(client.stdout).toBe(`${lines.join("\n")}\n`);
    const stopped = await interrupt(server);
    expect(stopped.stdout).toMatch(/stopped: 1 peer, \d+ messages\n$/);
  });

  test("--count N sends N numbered messages and prints a summary; --json makes it one JSON line", async () => {
    const { server, port } = await startServer();
    const text = await run("client-cli", ["--port", port, "--count", "20"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^sent 20 messages to udp://127\\.0\\.0\\.1:${port}, got every reply in [\\d.]+ ms \\(\\d+ retr(y|ies)\\)\\n$`,
      ),
    );
    await server.line(/: "Hello from client 20"$/);

    const json = await run("client-cli", ["--port", port, "-n", "3", "-m", "ping", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      event: "summary",
      server: `udp://127.0.0.1:${port}`,
      messages: 3,
      replies: 3,
    });
  });

  test("--json prints each reply as one JSON object per line", async () => {
    const { port } = await startServer(["--reply", "ok"]);
    const client = await run("client-cli", ["--port", port, "--json"], { stdin: "a1\nb1\n" });
    expect(client.code).toBe(0);
    expect(
      client.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { event: "reply", seq: 1, message: "a1", reply: "ok", tries: 1 },
      { event: "reply", seq: 2, message: "b1", reply: "ok", tries: 1 },
    ]);
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

  test("localhost reaches a server on ::1 and one on 127.0.0.1", async () => {
    const v6 = await startServer(["--host", "::1"]);
    expect(v6.server.stdout()).toBe(`listening on udp://[::1]:${v6.port}\n`);
    expect(await run("client-cli", ["localhost", "--port", v6.port, "-m", "six"])).toMatchObject({
      code: 0,
      stdout: "six\n",
    });
    const v4 = await startServer();
    expect(
      await run("client-cli", ["--host", "localhost", "-p", v4.port, "-m", "four"]),
    ).toMatchObject({ code: 0, stdout: "four\n" });
  });

  test("--trace prints the client's side in order: socket, bind, sendto, recvfrom, close", async () => {
    const { port } = await startServer();
    const client = await run("client-cli", ["--port", port, "--trace"]);
    expect(client.code).toBe(0);
    const lines = client.stderr.split("\n");
    inOrder(lines, [
      /^socket\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\)$/,
      /^bind\(127\.0\.0\.1:\d+\)$/,
      new RegExp(`^sendto\\(127\\.0\\.0\\.1:${port}\\) 17 bytes$`),
      new RegExp(`^recvfrom\\(127\\.0\\.0\\.1:${port}\\) 17 bytes$`),
      /^close\(\)$/,
    ]);
    // No connect(): a datagram is simply addressed and sent.
    expect(lines.filter((line) => line.startsWith("connect"))).toEqual([]);
  });

  test("--help and --version", async () => {
    const help = await run("client-cli", ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("udp-echo-client [HOST] [options]");
    for (const flag of [
      "--host HOST",
      "--port N",
      "--message TEXT",
      "--count N",
      "--timeout SECONDS",
      "--retries N",
      "--trace",
      "--json",
    ]) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain("(default: 7001)");
    expect(await run("client-cli", ["-V"])).toMatchObject({
      code: 0,
      stdout: "udp-echo-client 0.1.0\n",
    });
  });

  test("bad flags and values: a usage error naming the flag, exit 2", async () => {
    const cases: [string[], string][] = [
      [["--port", "70000"], "--port: 70000 is out of range (0–65535)"],
      [["--port", "abc"], "--port: 'abc' is not a port number (0–65535)"],
      [["--host", "999.1.1.1"], "--host: '999.1.1.1' is not a valid host name or IP address"],
      [["bad_host!"], "--host: 'bad_host!' is not a valid host name or IP address"],
      [["localhost", "--host", "::1"], "give the host once: as HOST or as --host"],
      [["--message", "a\nb"], "--message: must be one line"],
      [["--count", "0"], "--count: 0 is out of range (1–1000000)"],
      [["--count", "ten"], "--count: 'ten' is not a whole number"],
      [["--timeout", "soon"], "--timeout: 'soon' is not a number"],
      [["--timeout", "0"], "--timeout: 0 is out of range (0.001–3600)"],
      [["--retries", "many"], "--retries: 'many' is not a whole number"],
      [["--retries", "101"], "--retries: 101 is out of range (0–100)"],
      [["--trace=1"], "Option '--trace' does not take an argument"],
      [["--json=1"], "Option '--json' does not take an argument"],
      [["--framing", "lines"], "Unknown option '--framing'"],
      [["one", "two"], "too many arguments: 'one' 'two'"],
    ];
    const results = await Promise.all(cases.map(([args]) => run("client-cli", args)));
    results.forEach((result, i) => {
      const [args, message] = cases[i] as [string[], string];
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(`udp-echo-client: ${message}`);
    });
  });
});
