/**
 * Faults, run on the built programs as a user meets them: a server killed mid-stream, a client
 * killed mid-request, a server out of file descriptors (`ulimit -n 64`), oversize and invalid
 * input from raw sockets, and flag values the other tests do not try.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { interrupt, run, start, startServer, stopAll, WAIT_MS } from "./_spawn.js";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));

const sockets = new Set<Socket>();
const children = new Set<ChildProcess>();
const servers = new Set<Server>();
afterEach(() => {
  stopAll();
  for (const server of servers) server.close();
  servers.clear();
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const child of children) child.kill("SIGKILL");
  children.clear();
});

/** Rejects when `promise` takes longer than WAIT_MS. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A raw TCP connection, as nc or a misbehaving client opens, destroyed after the test. */
function rawSocket(port: number | string): Socket {
  const socket = connect(Number(port), "127.0.0.1");
  socket.on("error", () => {});
  sockets.add(socket);
  return socket;
}

/** Resolves with the error the socket failed with, if any, once it has closed. */
function closedWith(socket: Socket): Promise<Error | undefined> {
  let failure: Error | undefined;
  socket.on("error", (error) => {
    failure = error;
  });
  return within(
    new Promise((resolve) => socket.once("close", () => resolve(failure))),
    "close of the socket",
  );
}

/** Collects what a raw socket receives until it has `bytes` bytes. */
function readRaw(socket: Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  return within(
    new Promise((resolve) => {
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= bytes) {
          socket.off("data", onData);
          resolve(Buffer.concat(chunks));
        }
      };
      socket.on("data", onData);
    }),
    `${bytes} bytes`,
  );
}

/** `count` lines of piped input, long enough that the exchange is far from over when we strike. */
function longInput(count: number): string {
  return Array.from({ length: count }, (_, i) => `line ${i + 1} of a long piped input`).join("\n");
}

describe("tcp-echo under faults", () => {
  test("server killed (SIGKILL) mid-stream: the client says the connection was reset, with the hint, and exits 1", async () => {
    const { server, port } = await startServer();
    // A window as large as the input keeps the server's receive buffer full, so that the kernel
    // answers its death with a reset (RST). With less in flight it may have read everything and
    // close with a FIN: the client then says it "closed the connection after N of more than M
    // replies", which is all it can know.
    const client = start("client-cli", ["--port", port, "--window", "200000"], {
      stdin: longInput(200_000),
    });
    await client.line(/^line 1000 of a long piped input$/);
    server.child.kill("SIGKILL");
    const exit = await client.exited();
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(
      new RegExp(
        `^tcp-echo-client: connection to 127\\.0\\.0\\.1:${port} was reset by the peer\\. The other side closed abruptly \\(it crashed, was killed or gave up\\); reconnect if the work must go on\\.\\n$`,
      ),
    );
  });

  test("client killed (SIGKILL) mid-request: the server reports it and keeps serving everyone else", async () => {
    const { server, port } = await startServer();
    const bystander = rawSocket(port);
    await server.line(/ connected$/, 1);
    const doomed = start("client-cli", ["--port", port], { stdin: longInput(200_000) });
    await doomed.line(/^line 1000 of a long piped input$/);
    doomed.child.kill("SIGKILL");
    await doomed.exited();
    await server.line(/ disconnected after \d+ messages$/, 1);

    // The client that was there all along, and a new one, are both answered.
    const echoed = readRaw(bystander, "still served\n".length);
    bystander.write("still served\r\n");
    expect((await echoed).toString()).toBe("still served\n");
    expect(await run("client-cli", ["--port", port, "-m", "after"])).toMatchObject({
      code: 0,
      stdout: "after\n",
    });
    bystander.end();
    const stopped = await interrupt(server);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/stopped: 3 connections, \d+ messages\n$/);
  });

  test("a line over 64 KiB resets that client only; the server says why and goes on", async () => {
    const { server, port } = await startServer();
    const flooder = rawSocket(port);
    const reset = closedWith(flooder);
    flooder.write("a".repeat(70_000));
    expect(await reset).toMatchObject({ code: "ECONNRESET" });
    await server.line(
      /^127\.0\.0\.1:\d+: line of at least [\d,]+ bytes exceeds the limit of 65,536 bytes$/,
    );
    expect((await run("client-cli", ["--port", port, "-m", "next"])).stdout).toBe("next\n");
  });

  test("--framing length: a header announcing more than 8 MiB resets that client before any payload", async () => {
    const { server, port } = await startServer(["--framing", "length"]);
    const liar = rawSocket(port);
    const reset = closedWith(liar);
    liar.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(await reset).toMatchObject({ code: "ECONNRESET" });
    await server.line(
      /: frame header ffffffff announces 4,294,967,295 bytes, over the limit of 8,388,608 bytes$/,
    );
    const client = await run("client-cli", ["--port", port, "--framing", "length", "-m", "ok"]);
    expect(client).toMatchObject({ code: 0, stdout: "ok\n" });
  });

  test("invalid UTF-8 in a line comes back with U+FFFD in place of the bad bytes; the connection goes on", async () => {
    const { server, port } = await startServer();
    const peer = rawSocket(port);
    const expected = Buffer.from("hi\uFFFD\nfine\n");
    const echoed = readRaw(peer, expected.length);
    peer.write(Buffer.from([0x68, 0x69, 0xff, 0x0a])); // "hi", a byte that is never UTF-8, "\n"
    peer.write("fine\n");
    expect(await echoed).toEqual(expected);
    await server.line(/^127\.0\.0\.1:\d+: "hi\uFFFD"$/);
    await server.line(/^127\.0\.0\.1:\d+: "fine"$/);
  });

  test("a line ending in \\r (abc\\r\\r\\n) is echoed as it came, and the lines after it too", async () => {
    const { server, port } = await startServer();
    const peer = rawSocket(port);
    // The decoder strips the \r\n and keeps the first \r: the message is "abc\r".
    const echoed = readRaw(peer, "abc\r\r\ndef\n".length);
    peer.write("abc\r\r\ndef\n");
    expect((await echoed).toString()).toBe("abc\r\r\ndef\n");
    await server.line(/^127\.0\.0\.1:\d+: "abc\\r"$/);
    // The same connection goes on.
    const more = readRaw(peer, "\r\r\nghi\n".length);
    peer.write("\r\r\nghi\r\n");
    expect((await more).toString()).toBe("\r\r\nghi\n");
    peer.end();
    expect(await closedWith(peer)).toBeUndefined();
    await server.line(/ disconnected after 4 messages$/);
  });

  test("the client decodes a reply ending in \\r (abc\\r\\r\\n) as 'abc\\r' and prints that CR escaped, never raw", async () => {
    const replier = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on("error", () => {});
      socket.on("data", () => socket.write("abc\r\r\n"));
      socket.on("end", () => socket.end());
    });
    servers.add(replier);
    replier.listen(0, "127.0.0.1");
    await once(replier, "listening");
    const { port } = replier.address() as AddressInfo;
    // Only the last \r\n ends the line: the reply is "abc" and one CR. The client shows a
    // peer's control characters escaped, never raw, so that CR is printed as backslash + r
    // ("abc" alone would be a CR lost, "abc\\r\\r" the line end kept).
    const text = await run("client-cli", ["--port", String(port), "-m", "x"]);
    expect(text).toMatchObject({ code: 0, stdout: "abc\\r\n" });
    const json = await run("client-cli", ["--port", String(port), "-m", "x", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      event: "reply",
      seq: 1,
      message: "x",
      reply: "abc\\r",
    });
    expect(`${text.stdout}${json.stdout}`).not.toContain("\r");
  });
});

describe("tcp-echo-server out of file descriptors (ulimit -n 64)", () => {
  /** The server under `ulimit -n 64`, its port, and what it prints. */
  async function startStarved() {
    const child = spawn(
      "bash",
      ["-c", `ulimit -n 64 && exec "${process.execPath}" "${DIST}server-cli.js" --port 0`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.add(child);
    let stdout = "";
    let stderr = "";
    const watchers = new Set<() => void>();
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      for (const watch of watchers) watch();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      for (const watch of watchers) watch();
    });
    /** Resolves once `check()` holds, re-checked on every output of the server. */
    const when = (check: () => boolean, what: string) =>
      within(
        new Promise<void>((resolve) => {
          const watch = () => {
            if (check()) {
              watchers.delete(watch);
              resolve();
            }
          };
          watchers.add(watch);
          watch();
        }),
        what,
      );
    await when(() => /listening on .*:\d+\n/.test(stdout), "listening line");
    const port = Number(/:(\d+)\n/.exec(stdout)?.[1]);
    const reports = () => stderr.split("\n").filter((line) => /too many open files/.test(line));
    return { child, port, when, stdout: () => stdout, reports };
  }

  type Starved = Awaited<ReturnType<typeof startStarved>>;

  /**
   * Opens one connection and tells whether the server accepted it (it prints "connected" for
   * its port) or closed it as soon as it arrived, out of descriptors.
   */
  async function attempt(server: Starved): Promise<Socket | undefined> {
    const socket = rawSocket(server.port);
    await within(once(socket, "connect"), "connect");
    const accepted = `127.0.0.1:${socket.localPort} connected\n`;
    let closed = false;
    socket.once("close", () => {
      closed = true;
    });
    const outcome = await Promise.race([
      server.when(() => server.stdout().includes(accepted), "accept").then(() => "accepted"),
      closedWith(socket).then(() => "closed"),
    ]);
    if (outcome === "accepted" && !closed) return socket;
    return undefined;
  }

  /** Opens connections until one is closed at once; returns those accepted. */
  async function fill(server: Starved): Promise<Socket[]> {
    const held: Socket[] = [];
    for (let i = 0; i < 64; i++) {
      const socket = await attempt(server);
      if (socket === undefined) return held;
      held.push(socket);
    }
    throw new Error("64 connections were accepted under ulimit -n 64");
  }

  test("reports it once per burst with core's hint, keeps serving open connections, accepts again once some close", async () => {
    const server = await startStarved();
    const held = await fill(server);
    expect(held.length).toBeGreaterThan(10);

    // The report: one stderr line, with the hint.
    await server.when(() => server.reports().length === 1, "EMFILE report");
    expect(server.reports()[0]).toMatch(
      /^tcp-echo-server: too many open files for 127\.0\.0\.1:\d+ — this process has used all its file descriptors; new connections are closed as soon as they arrive until descriptors are free again\. .*raise the limit with 'ulimit -n'\.$/,
    );
    // More of the same burst: each closed at once, none reported again, nothing crashes.
    for (let i = 0; i < 10; i++) expect(await attempt(server)).toBeUndefined();
    expect(server.reports()).toHaveLength(1);

    // The connections already open are served as ever.
    const first = held[0] as Socket;
    const echoed = readRaw(first, 11);
    first.write("still here\n");
    expect((await echoed).toString()).toBe("still here\n");

    // Descriptors free up: accepted again.
    for (const socket of held.splice(0, 5)) socket.destroy();
    await server.when(
      () => (server.stdout().match(/ disconnected after /g) ?? []).length === 5,
      "5 disconnects",
    );
    const again = await attempt(server);
    expect(again).toBeDefined();
    const reply = readRaw(again as Socket, 6);
    again?.write("again\n");
    expect((await reply).toString()).toBe("again\n");

    // A new burst is a new report.
    await fill(server);
    await server.when(() => server.reports().length === 2, "a second EMFILE report");
    expect(server.child.exitCode).toBeNull();
  });
});

describe("flag values the CLI tests do not try", () => {
  test.each([
    [["--port="], "--port: '' is not a port number (0–65535)"],
    [["--port", "1.5"], "--port: '1.5' is not a port number (0–65535)"],
    [["--port", "-1"], "Option '--port' argument is ambiguous"],
    [["--host="], "--host: '' is not a valid host name or IP address"],
    [["--host", "[::1"], "--host: '[::1' is not a valid host name or IP address"],
    [
      ["--host", "[127.0.0.1]"],
      "--host: '[127.0.0.1]' has brackets but '127.0.0.1' is not an IPv6 address",
    ],
    [["--reply"], "Option '--reply <value>' argument missing"],
    [["--framing="], "--framing: '' is not one of lines, length"],
    [["--framing", "LINES"], "--framing: 'LINES' is not one of lines, length"],
    [["--backlog", "65536"], "--backlog: 65536 is out of range (1–65535)"],
    [["--max-connections", "0"], "--max-connections: 0 is out of range (1–1000000)"],
    [["--max-connections", "1.5"], "--max-connections: '1.5' is not a whole number"],
    [["--idle-timeout", "soon"], "--idle-timeout: 'soon' is not a number"],
    [["--idle-timeout", "Infinity"], "--idle-timeout: 'Infinity' is not a number"],
    [["--idle-timeout", "86401"], "--idle-timeout: 86401 is out of range (0–86400)"],
  ])("tcp-echo-server %j: usage error naming the flag, exit 2", async (args, message) => {
    const result = await run("server-cli", args);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`tcp-echo-server: ${message}`);
  });

  test.each([
    [["--port="], "--port: '' is not a port number (0–65535)"],
    [["--port", "65536"], "--port: 65536 is out of range (0–65535)"],
    [["-p"], "Option '-p, --port <value>' argument missing"],
    [["--host="], "--host: '' is not a valid host name or IP address"],
    [["--message"], "Option '-m, --message <value>' argument missing"],
    [["--count", "1.5"], "--count: '1.5' is not a whole number"],
    [["--count=-3"], "--count: -3 is out of range (1–1000000)"],
    [["--count", "1000001"], "--count: 1000001 is out of range (1–1000000)"],
    [["--timeout", "NaN"], "--timeout: 'NaN' is not a number"],
    [["--timeout=-1"], "--timeout: -1 is out of range (0.001–3600)"],
    [["--timeout", "3601"], "--timeout: 3601 is out of range (0.001–3600)"],
    [["--framing="], "--framing: '' is not one of lines, length"],
  ])("tcp-echo-client %j: usage error naming the flag, exit 2", async (args, message) => {
    const result = await run("client-cli", args, { stdin: "ignore" });
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
    expect(result.stderr).toContain(`tcp-echo-client: ${message}`);
  });

  test("a message over the 64 KiB line limit is refused by the client before it is sent, exit 1", async () => {
    const { server, port } = await startServer();
    const result = await run("client-cli", ["--port", port, "-m", "a".repeat(70_000)]);
    expect(result).toMatchObject({
      code: 1,
      stdout: "",
      stderr:
        "tcp-echo-client: line of 70,000 bytes exceeds the limit of 65,536 bytes. Split the message, or raise maxLineBytes on both sides.\n",
    });
    expect(server.stdout()).not.toMatch(/: "a/);
  });
});
