import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { afterEach, describe, expect, test } from "vitest";
import { runClient } from "../src/client.js";
import { inOrder, interrupt, run, startServer, stopAll } from "./_spawn.js";

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
  test("prints 'listening on udp://127.0.0.1:PORT' first, then each sender and text, and echoes", async () => {
    const { server, port } = await startServer();
    expect(server.stdout().split("\n")[0]).toBe(`listening on udp://127.0.0.1:${port}`);
    const client = await run("client-cli", ["--port", port], { stdin: "ignore" });
    expect(client).toMatchObject({ code: 0, stdout: "Hello from client\n", stderr: "" });
    await server.line(/^127\.0\.0\.1:\d+: "Hello from client"$/);
  });

  test("--reply answers with a fixed text, like the tutorial's server", async () => {
    const { port } = await startServer(["--reply", "Hello from server"]);
    expect(await run("client-cli", ["--port", port])).toMatchObject({
      code: 0,
      stdout: "Hello from server\n",
    });
  });

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

  test("SIGINT stops it gracefully: exit 0 and a one-line summary", async () => {
    const { server, port } = await startServer();
    expect((await run("client-cli", ["--port", port], { stdin: "a\nb\n" })).code).toBe(0);
    expect((await run("client-cli", ["--port", port, "-m", "c"])).code).toBe(0);
    const stopped = await interrupt(server);
    expect(stopped).toMatchObject({ code: 0, signal: null, stderr: "" });
    expect(stopped.stdout.trimEnd().split("\n").at(-1)).toBe("stopped: 2 peers, 3 messages");
  });

  test("SIGTERM stops it too; with --json every line is one JSON object", async () => {
    const { server, port } = await startServer(["--json"]);
    expect((await run("client-cli", ["--port", port, "-m", "hi"])).code).toBe(0);
    await server.line(/"event":"message"/);
    server.child.kill("SIGTERM");
    const stopped = await server.exited();
    expect(stopped.code).toBe(0);
    const records = stopped.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toEqual({ event: "listening", endpoint: `udp://127.0.0.1:${port}` });
    expect(records[1]).toMatchObject({
      event: "message",
      text: "hi",
      reply: "hi",
      sent: true,
      receivedBytes: 2,
      replyBytes: 2,
    });
    expect(records.at(-1)).toEqual({ event: "stopped", peers: 1, messages: 1, refused: 0 });
  });

  test("a port in use: exit 1, naming the address and the likely cause", async () => {
    const { port } = await startServer();
    const second = await run("server-cli", ["--port", port]);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe("");
    expect(second.stderr).toBe(
      `udp-echo-server: address 127.0.0.1:${port} is already in use — another socket is bound there. ` +
        "Another program (perhaps an earlier udp-echo-server) holds that port: stop it, or choose another with --port (--port 0 picks a free one).\n",
    );
  });

  test("--trace prints the datagram story in order: socket, bind, recvfrom, sendto, close", async () => {
    const { server, port } = await startServer(["--trace"]);
    expect((await run("client-cli", ["--port", port])).code).toBe(0);
    const stopped = await interrupt(server);
    const lines = stopped.stderr.split("\n");
    inOrder(lines, [
      /^socket\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\)$/,
      new RegExp(`^bind\\(127\\.0\\.0\\.1:${port}\\)$`),
      /^recvfrom\(127\.0\.0\.1:\d+\) 17 bytes$/,
      /^sendto\(127\.0\.0\.1:\d+\) 17 bytes$/,
      /^close\(\)$/,
    ]);
    // No listen() and no accept(): a datagram socket has no connections.
    expect(lines.filter((line) => /^(listen|accept)/.test(line))).toEqual([]);
  });

  test("--help lists every flag with its default, and no stream-only flags; --version", async () => {
    const help = await run("server-cli", ["--help"]);
    expect(help.code).toBe(0);
    for (const flag of [
      "--host HOST",
      "--port N",
      "--reply TEXT",
      "--max-amplification RATIO",
      "--trace",
      "--json",
    ]) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain("(default: 7001)");
    for (const streamOnly of ["--backlog", "--max-connections", "--idle-timeout", "--framing"]) {
      expect(help.stdout).not.toContain(streamOnly);
    }
    expect(await run("server-cli", ["--version"])).toMatchObject({
      code: 0,
      stdout: "udp-echo-server 0.1.0\n",
    });
  });

  test("bad flags and values: a usage error naming the flag, exit 2", async () => {
    const cases: [string[], string][] = [
      [["--port", "70000"], "--port: 70000 is out of range (0–65535)"],
      [["--port", "abc"], "--port: 'abc' is not a port number (0–65535)"],
      [["--host", "bad_host!"], "--host: 'bad_host!' is not a valid host name or IP address"],
      [["--reply", "two\nlines"], "--reply: must be one line"],
      [["--max-amplification", "0.5"], "--max-amplification: 0.5 is out of range (1–65507)"],
      [["--max-amplification", "lots"], "--max-amplification: 'lots' is not a number"],
      [["--trace=yes"], "Option '--trace' does not take an argument"],
      [["--json=no"], "Option '--json' does not take an argument"],
      [["--backlog", "5"], "Unknown option '--backlog'"],
      [["extra"], "unexpected argument 'extra'"],
    ];
    const results = await Promise.all(cases.map(([args]) => run("server-cli", args)));
    results.forEach((result, i) => {
      const [args, message] = cases[i] as [string[], string];
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(`udp-echo-server: ${message}`);
      expect(result.stderr).toContain("Run 'udp-echo-server --help' for usage.");
    });
  });
});
