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
  test("prints 'listening on tcp://127.0.0.1:PORT' first, then each sender and text, and echoes", async () => {
    const { server, port } = await startServer();
    expect(server.stdout().split("\n")[0]).toBe(`listening on tcp://127.0.0.1:${port}`);

    const client = await run("client-cli", ["--port", port], { stdin: "ignore" });
    expect(client).toMatchObject({ code: 0, stdout: "Hello from client\n", stderr: "" });
    await server.line(/^127\.0\.0\.1:\d+: "Hello from client"$/);
  });

  test("--reply answers every message with a fixed text, like the tutorial's server", async () => {
    const { port } = await startServer(["--reply", "Hello from server"]);
    const client = await run("client-cli", ["--port", port], { stdin: "one\ntwo\n" });
    expect(client).toMatchObject({ code: 0, stdout: "Hello from server\nHello from server\n" });
  });

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

  test("SIGINT stops it gracefully: exit 0 and a one-line summary", async () => {
    const { server, port } = await startServer();
    expect((await run("client-cli", ["--port", port], { stdin: "a\nb\n" })).code).toBe(0);
    expect((await run("client-cli", ["--port", port, "-m", "c"])).code).toBe(0);
    const stopped = await interrupt(server);
    expect(stopped).toMatchObject({ code: 0, signal: null, stderr: "" });
    expect(stopped.stdout.trimEnd().split("\n").at(-1)).toBe("stopped: 2 connections, 3 messages");
  });

  test("SIGTERM stops it too; with --json every line is one JSON object", async () => {
    const { server, port } = await startServer(["--json"]);
    expect((await run("client-cli", ["--port", port, "-m", "hi"])).code).toBe(0);
    await server.line(/"event":"disconnect"/);
    server.child.kill("SIGTERM");
    const stopped = await server.exited();
    expect(stopped.code).toBe(0);
    const records = stopped.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => r.event)).toEqual([
      "listening",
      "connect",
      "message",
      "disconnect",
      "stopped",
    ]);
    expect(records[0]).toEqual({ event: "listening", endpoint: `tcp://127.0.0.1:${port}` });
    expect(records[2]).toMatchObject({ event: "message", text: "hi", reply: "hi" });
    expect(records[4]).toEqual({ event: "stopped", connections: 1, rejected: 0, messages: 1 });
  });

  test("a port in use: exit 1, naming the address and the likely cause", async () => {
    const { port } = await startServer();
    const second = await run("server-cli", ["--port", port]);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe("");
    expect(second.stderr).toBe(
      `tcp-echo-server: address 127.0.0.1:${port} is already in use — another socket is bound there. ` +
        "Another program (perhaps an earlier tcp-echo-server) holds that port: stop it, or choose another with --port (--port 0 picks a free one).\n",
    );
  });

  test("--trace prints the socket story in order: socket, bind, listen, accept, recv, send, close", async () => {
    const { server, port } = await startServer(["--trace"]);
    expect((await run("client-cli", ["--port", port])).code).toBe(0);
    const stopped = await interrupt(server);
    inOrder(stopped.stderr.split("\n"), [
      /^socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\)$/,
      new RegExp(`^bind\\(127\\.0\\.0\\.1:${port}\\)$`),
      /^listen\(backlog=5\)$/,
      /^accept\(\) -> 127\.0\.0\.1:\d+$/,
      /^recv 18 bytes$/, // "Hello from client\n"
      /^send 18 bytes$/,
      /^close\(\) 127\.0\.0\.1:\d+$/,
      /^close\(\)$/, // the listening socket
    ]);
  });

  test("--backlog sets the listen() queue length", async () => {
    const { server } = await startServer(["--trace", "--backlog", "7"]);
    const stopped = await interrupt(server);
    expect(stopped.stderr).toContain("listen(backlog=7)\n");
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

  test("--help lists every flag with its default; --version prints the package version", async () => {
    const help = await run("server-cli", ["--help"]);
    expect(help.code).toBe(0);
    for (const flag of [
      "--host HOST",
      "--port N",
      "--reply TEXT",
      "--framing lines|length",
      "--backlog N",
      "--max-connections N",
      "--idle-timeout SECONDS",
      "--trace",
      "--json",
    ]) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain("(default: 7000)");
    expect(help.stdout).toContain("(default: 5)");
    expect(await run("server-cli", ["--version"])).toMatchObject({
      code: 0,
      stdout: "tcp-echo-server 0.1.0\n",
    });
  });

  test("bad flags and values: a usage error naming the flag, exit 2", async () => {
    const cases: [string[], string][] = [
      [["--port", "70000"], "--port: 70000 is out of range (0–65535)"],
      [["--port", "abc"], "--port: 'abc' is not a port number (0–65535)"],
      [["--host", "bad_host!"], "--host: 'bad_host!' is not a valid host name or IP address"],
      [["--reply", "two\nlines"], "--reply: must be one line"],
      [["--framing", "json"], "--framing: 'json' is not one of lines, length"],
      [["--backlog", "0"], "--backlog: 0 is out of range (1–65535)"],
      [["--max-connections", "many"], "--max-connections: 'many' is not a whole number"],
      [["--idle-timeout=-1"], "--idle-timeout: -1 is out of range (0–86400)"],
      [["--trace=yes"], "Option '--trace' does not take an argument"],
      [["--json=no"], "Option '--json' does not take an argument"],
      [["--prot", "7000"], "Unknown option '--prot'"],
      [["extra"], "unexpected argument 'extra'"],
    ];
    const results = await Promise.all(cases.map(([args]) => run("server-cli", args)));
    results.forEach((result, i) => {
      const [args, message] = cases[i] as [string[], string];
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(`tcp-echo-server: ${message}`);
      expect(result.stderr).toContain("Run 'tcp-echo-server --help' for usage.");
    });
  });
});
