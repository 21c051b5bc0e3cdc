import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { inOrder, interrupt, run, startServer, stopAll } from "./_spawn.js";

const servers = new Set<Server>();
afterEach(() => {
  stopAll();
  for (const server of servers) server.close();
  servers.clear();
});

/** A port that was free a moment ago: bound, then closed. */
async function closedPort(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return String(port);
}

describe("tcp-echo-client", () => {
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

  test("--message sends that text instead", async () => {
    const { port } = await startServer();
    expect(await run("client-cli", ["--port", port, "--message", "Hi there"])).toMatchObject({
      code: 0,
      stdout: "Hi there\n",
    });
  });

  test("1,000 piped lines: 1,000 replies, in order, then exit 0", async () => {
    const { server, port } = await startServer();
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i + 1} ${"x".repeat(i % 50)}`);
    const client = await run("client-cli", ["--port", port], { stdin: `${lines.join("\n")}\n` });
    expect(client.code).toBe(0);
    expect(client.stdout).toBe(`${lines.join("\n")}\n`);
    const stopped = await interrupt(server);
    expect(stopped.stdout).toContain("stopped: 1 connection, 1000 messages\n");
  });

  test("--count N sends N numbered messages and prints a summary; --json makes it one JSON line", async () => {
    const { server, port } = await startServer();
    const text = await run("client-cli", ["--port", port, "--count", "20"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^sent 20 messages to tcp://127\\.0\\.0\\.1:${port}, got every reply in [\\d.]+ ms\\n$`,
      ),
    );
    await server.line(/: "Hello from client 20"$/);

    const json = await run("client-cli", ["--port", port, "-n", "3", "-m", "ping", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      event: "summary",
      server: `tcp://127.0.0.1:${port}`,
      messages: 3,
      replies: 3,
    });
    await server.line(/: "ping 3"$/);
  });

  test("--json prints each reply as one JSON object per line", async () => {
    const { port } = await startServer(["--reply", "Hello from server"]);
    const client = await run("client-cli", ["--port", port, "--json"], { stdin: "a\nb\n" });
    expect(client.code).toBe(0);
    expect(
      client.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { event: "reply", seq: 1, message: "a", reply: "Hello from server" },
      { event: "reply", seq: 2, message: "b", reply: "Hello from server" },
    ]);
  });

  test("no server: one line saying the connection was refused and how to start one, exit 1", async () => {
    const port = await closedPort();
    const client = await run("client-cli", ["--port", port]);
    expect(client).toEqual({
      code: 1,
      signal: null,
      stdout: "",
      stderr: `tcp-echo-client: connection refused by 127.0.0.1:${port} — no server is listening there. Start one with: pnpm tcp:server\n`,
    });
  });

  test("localhost reaches a server on ::1 and one on 127.0.0.1", async () => {
    const v6 = await startServer(["--host", "::1"]);
    expect(v6.server.stdout()).toBe(`listening on tcp://[::1]:${v6.port}\n`);
    expect(await run("client-cli", ["localhost", "--port", v6.port, "-m", "six"])).toMatchObject({
      code: 0,
      stdout: "six\n",
    });
    const v4 = await startServer();
    expect(
      await run("client-cli", ["--host", "localhost", "-p", v4.port, "-m", "four"]),
    ).toMatchObject({ code: 0, stdout: "four\n" });
  });

  test("--timeout: a server that accepts but never answers is given up on, exit 1", async () => {
    const silent = createServer({ allowHalfOpen: true }, (socket) => socket.resume());
    servers.add(silent);
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const { port } = silent.address() as { port: number };
    const client = await run("client-cli", ["--port", String(port), "--timeout", "0.2"]);
    expect(client.code).toBe(1);
    expect(client.stderr).toMatch(
      /^tcp-echo-client: .*idle for 200 ms.*allow longer with --timeout SECONDS\n$/,
    );
  });

  test("--trace prints the client's side in order: socket, connect, send, shutdown, recv, close", async () => {
    const { port } = await startServer();
    const client = await run("client-cli", ["--port", port, "--trace"]);
    expect(client.code).toBe(0);
    inOrder(client.stderr.split("\n"), [
      /^socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\)$/,
      new RegExp(`^connect\\(127\\.0\\.0\\.1:${port}\\)$`),
      /^send 18 bytes$/,
      /^shutdown\(SHUT_WR\)$/,
      /^recv 18 bytes$/,
      /^close\(\)/,
    ]);
    expect(client.stdout).toBe("Hello from client\n");
  });

  test("--help and --version", async () => {
    const help = await run("client-cli", ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("tcp-echo-client [HOST] [options]");
    for (const flag of [
      "--host HOST",
      "--port N",
      "--message TEXT",
      "--count N",
      "--framing",
      "--timeout SECONDS",
      "--trace",
      "--json",
    ]) {
      expect(help.stdout).toContain(flag);
    }
    expect(await run("client-cli", ["-V"])).toMatchObject({
      code: 0,
      stdout: "tcp-echo-client 0.1.0\n",
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
      [["--framing", "json"], "--framing: 'json' is not one of lines, length"],
      [["--timeout", "soon"], "--timeout: 'soon' is not a number"],
      [["--timeout", "0"], "--timeout: 0 is out of range (0.001–3600)"],
      [["--trace=1"], "Option '--trace' does not take an argument"],
      [["--json=1"], "Option '--json' does not take an argument"],
      [["--retries", "3"], "Unknown option '--retries'"],
      [["one", "two"], "too many arguments: 'one' 'two'"],
    ];
    const results = await Promise.all(cases.map(([args]) => run("client-cli", args)));
    results.forEach((result, i) => {
      const [args, message] = cases[i] as [string[], string];
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(`tcp-echo-client: ${message}`);
    });
  });
});
