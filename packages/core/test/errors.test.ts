import { spawn } from "node:child_process";
import type { LookupAddress } from "node:dns";
import net from "node:net";
import { constants } from "node:os";
import { join } from "node:path";
import { getSystemErrorName } from "node:util";
import {
  ErrorCode,
  explain,
  isSocketError,
  SocketError,
  SYSTEM_ERROR_CODES,
  UDP_MAX_PAYLOAD_IPV4,
} from "@socket-lab/core";
import { describe, expect, test } from "vitest";
import { bindUdp, closedPort, connectTcp, errorOf, listenTcp, next, tempDir } from "./_sockets.js";

/**
 * A system error shaped the way Node builds one (`exceptionWithHostPort`), for the failures
 * that loopback cannot produce without root or traffic to other hosts.
 */
function systemError(
  code: keyof typeof constants.errno,
  syscall: string,
  address?: string,
  port?: number,
): NodeJS.ErrnoException & { address?: string; port?: number } {
  const errno = -constants.errno[code];
  // The code must be one this system knows, so the synthetic error matches a real one.
  expect(getSystemErrorName(errno)).toBe(code);
  const where =
    address === undefined ? "" : port === undefined ? ` ${address}` : ` ${address}:${port}`;
  const err = new Error(`${syscall} ${code}${where}`);
  return Object.assign(err, {
    errno,
    code,
    syscall,
    ...(address === undefined ? {} : { address }),
    ...(port === undefined ? {} : { port }),
  });
}

/** What every explained system error must be: one sentence with the endpoint, and a hint. */
function expectExplained(
  err: unknown,
  code: string,
  where: string,
  hintFragments: string[],
): SocketError {
  const explained = explain(err);
  expect(explained).toBeInstanceOf(SocketError);
  expect(explained.code).toBe(code);
  expect(explained.cause).toBe(err);
  expect(explained.message).toContain(where);
  expect(explained.message).not.toMatch(/[\n.]$|\n/);
  expect(explained.hint).toBeDefined();
  for (const fragment of hintFragments) expect(explained.hint).toContain(fragment);
  const node = err as { syscall?: string; address?: string; port?: number };
  expect(explained.syscall).toBe(node.syscall);
  expect(explained.address).toBe(node.address);
  expect(explained.port).toBe(node.port);
  return explained;
}

describe("ErrorCode", () => {
  test("maps every code to itself, Node style", () => {
    for (const [key, value] of Object.entries(ErrorCode)) {
      expect(value).toBe(key);
      expect(value).toMatch(/^ERR_[A-Z0-9_]+$/);
    }
    expect(Object.keys(ErrorCode)).toEqual(
      expect.arrayContaining([
        "ERR_INVALID_ENDPOINT",
        "ERR_INVALID_SOCKET_ATTRIBUTES",
        "ERR_UNSUPPORTED_SOCKET",
        "ERR_FRAME_TOO_LARGE",
        "ERR_DATAGRAM_TOO_LARGE",
        "ERR_TIMEOUT",
        "ERR_ABORTED",
        "ERR_UNKNOWN",
      ]),
    );
  });
});

describe("SocketError", () => {
  test("carries a code, a hint, the cause and the system fields", () => {
    const cause = new Error("connect ECONNREFUSED 127.0.0.1:7000");
    const err = new SocketError(ErrorCode.ERR_TIMEOUT, "connect to 127.0.0.1:7000 timed out", {
      cause,
      hint: "Allow a longer timeout.",
      syscall: "connect",
      address: "127.0.0.1",
      port: 7000,
    });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: "SocketError",
      code: "ERR_TIMEOUT",
      message: "connect to 127.0.0.1:7000 timed out",
      hint: "Allow a longer timeout.",
      syscall: "connect",
      address: "127.0.0.1",
      port: 7000,
    });
    expect(err.cause).toBe(cause);
    expect(err.stack?.split("\n")[0]).toBe("SocketError: connect to 127.0.0.1:7000 timed out");
  });

  test("leaves out what it was not given", () => {
    const err = new SocketError(ErrorCode.ERR_SOCKET_CLOSED, "socket is closed");
    expect("cause" in err).toBe(false);
    expect(err.hint).toBeUndefined();
    expect(err.syscall).toBeUndefined();
  });

  test("isSocketError matches the class, and the code when given one", () => {
    const err = new SocketError("ECONNRESET", "reset");
    expect(isSocketError(err)).toBe(true);
    expect(isSocketError(err, "ECONNRESET")).toBe(true);
    expect(isSocketError(err, ErrorCode.ERR_TIMEOUT)).toBe(false);
    expect(isSocketError(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(false);
    expect(isSocketError("ECONNRESET")).toBe(false);
  });
});

describe("explain() on real errors from loopback sockets", () => {
  test("ECONNREFUSED: connect to a closed port on 127.0.0.1", async () => {
    const port = await closedPort();
    const err = await errorOf(connectTcp({ host: "127.0.0.1", port }));
    const explained = expectExplained(err, "ECONNREFUSED", `127.0.0.1:${port}`, [
      "Is the server running?",
      "'localhost' may mean ::1",
    ]);
    expect(explained.message).toBe(
      `connection refused by 127.0.0.1:${port} — no server is listening there`,
    );
    expect(explained).toMatchObject({ syscall: "connect", address: "127.0.0.1", port });
  });

  test("ECONNREFUSED on both addresses of a name names both (autoSelectFamily's AggregateError)", async () => {
    const port = await closedPort();
    // A name that resolves to both loopback addresses, as 'localhost' often does.
    const socket = connectTcp({
      host: "loopback.test",
      port,
      autoSelectFamily: true,
      lookup: (_host, _options, callback) =>
        (callback as (err: null, addresses: LookupAddress[]) => void)(null, [
          { address: "127.0.0.1", family: 4 },
          { address: "::1", family: 6 },
        ]),
    });
    const err = await errorOf(socket);
    expect(err).toBeInstanceOf(AggregateError);
    const explained = explain(err);
    expect(explained.code).toBe("ECONNREFUSED");
    expect(explained.message).toBe(
      `connection refused by 127.0.0.1:${port} and [::1]:${port} — no server is listening there`,
    );
    // The fields are the first attempt's.
    expect(explained).toMatchObject({ syscall: "connect", address: "127.0.0.1", port });
    expect(explained.cause).toBe(err);
  });

  test("EADDRINUSE: listen twice on the same 127.0.0.1 port", async () => {
    const { port } = await listenTcp();
    const second = net.createServer();
    second.listen(port, "127.0.0.1");
    const err = await errorOf(second);
    const explained = expectExplained(err, "EADDRINUSE", `127.0.0.1:${port}`, ["port 0"]);
    expect(explained.message).toBe(
      `address 127.0.0.1:${port} is already in use — another socket is bound there`,
    );
    expect(explained.syscall).toBe("listen");
  });

  test("ENOENT: connect to a unix path where no socket exists", async () => {
    const path = join(tempDir(), "missing.sock");
    const err = await errorOf(connectTcp({ path }));
    const explained = expectExplained(err, "ENOENT", path, ["Start the server first"]);
    expect(explained.message).toBe(`no socket exists at ${path}`);
  });

  test("ENOENT: a unix bind where the socket file's directory is missing", () => {
    // libuv reports this one as EACCES; the tcp package gives explain() the kernel's ENOENT.
    const explained = explain(
      Object.assign(new Error("listen ENOENT /no/such/dir/app.sock"), {
        code: "ENOENT",
        syscall: "listen",
        address: "/no/such/dir/app.sock",
      }),
    );
    expect(explained.message).toBe("no directory exists for the socket file /no/such/dir/app.sock");
    expect(explained.hint).toMatch(/create the directory first/);
  });

  test("EADDRINUSE on a unix path: names the path (no port) and says a file may be stale", async () => {
    const path = join(tempDir(), "taken.sock");
    const first = net.createServer().listen(path);
    await next(first, "listening");
    const second = net.createServer();
    second.listen(path);
    const err = await errorOf(second);
    first.close();
    const explained = expectExplained(err, "EADDRINUSE", path, [
      "socket file behind",
      "remove the file",
    ]);
    expect(explained.message).toBe(
      `address ${path} is already in use — a file exists at that path`,
    );
    expect(explained.message).not.toMatch(/:-1\b|\bport\b/);
    expect(explained.hint).not.toMatch(/port/);
  });

  test("ECONNREFUSED on a stale unix socket file (its server was killed)", async () => {
    const path = join(tempDir(), "stale.sock");
    // A server killed with SIGKILL never unlinks its socket file.
    const child = spawn(process.execPath, [
      "-e",
      `require("node:net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`,
    ]);
    await next(child.stdout, "data");
    child.kill("SIGKILL");
    await next(child, "exit");
    const err = await errorOf(connectTcp({ path }));
    const explained = expectExplained(err, "ECONNREFUSED", path, ["socket file behind"]);
    expect(explained.message).toBe(
      `connection refused by ${path} — the socket file exists but no server accepts on it`,
    );
  });

  test("EACCES on a unix path speaks of file permissions, not ports", () => {
    // Root ignores file permissions, so this one is Node's error as it reports it for a user.
    const explained = explain(
      Object.assign(new Error("connect EACCES /run/app.sock"), {
        code: "EACCES",
        syscall: "connect",
        address: "/run/app.sock",
        port: -1,
      }),
    );
    expect(explained.message).toBe("permission denied for /run/app.sock");
    expect(explained.hint).toMatch(/permissions/);
    expect(explained.hint).not.toMatch(/1024|port/i);
  });

  test("EMSGSIZE: a udp4 datagram of UDP_MAX_PAYLOAD_IPV4 + 1 bytes to 127.0.0.1", async () => {
    const socket = await bindUdp("udp4");
    const { port } = socket.address();
    const err = await new Promise<Error | null>((resolve) =>
      socket.send(Buffer.alloc(UDP_MAX_PAYLOAD_IPV4 + 1), port, "127.0.0.1", resolve),
    );
    const explained = expectExplained(err, "EMSGSIZE", `127.0.0.1:${port}`, ["65,507", "1,472"]);
    expect(explained.message).toBe(`datagram to 127.0.0.1:${port} is too large to send`);
    expect(explained.syscall).toBe("send");
  });

  test("ECONNRESET: the server resets the connection while the client reads", async () => {
    const { port } = await listenTcp("127.0.0.1", (socket) => {
      socket.once("data", () => socket.resetAndDestroy());
    });
    const client = connectTcp({ host: "127.0.0.1", port });
    await next(client, "connect");
    client.write("hello");
    const err = await errorOf(client);
    expect(err.code).toBe("ECONNRESET");
    const explained = explain(err, { endpoint: `127.0.0.1:${port}` });
    expect(explained.message).toBe(`connection to 127.0.0.1:${port} was reset by the peer`);
    expect(explained.hint).toContain("reconnect");
    expect(explained.cause).toBe(err);
    expect(explained.syscall).toBe(err.syscall);
  });

  test("EPIPE or ECONNRESET: the client keeps writing after the server closed (TCP)", async () => {
    const { port } = await listenTcp("127.0.0.1", (socket) => socket.destroy());
    // allowHalfOpen keeps our side writable after the server's FIN, as a careless client would.
    const client = connectTcp({ host: "127.0.0.1", port, allowHalfOpen: true });
    client.resume();
    await next(client, "end");
    let writes = 0;
    const write = () => {
      writes += 1;
      if (writes <= 1_000) client.write("x", (err) => (err ? undefined : write()));
    };
    write();
    const err = await errorOf(client);
    expect(["EPIPE", "ECONNRESET"]).toContain(err.code);
    const explained = explain(err, { endpoint: `127.0.0.1:${port}` });
    expect(explained.code).toBe(err.code);
    expect(explained.message).toContain(`127.0.0.1:${port}`);
    expect(explained.hint).toMatch(/stop sending|reconnect/);
  });

  test("EPIPE: writing to a unix socket whose server has closed", async () => {
    const path = join(tempDir(), "closing.sock");
    const server = net.createServer((socket) => socket.destroy());
    server.listen(path);
    await next(server, "listening");
    try {
      const client = connectTcp({ path, allowHalfOpen: true });
      client.resume();
      await next(client, "end");
      client.write("x");
      const err = await errorOf(client);
      // A unix socket has no RST: the write itself fails, always with EPIPE.
      expect(err).toMatchObject({ code: "EPIPE", syscall: "write" });
      const explained = explain(err, { endpoint: path });
      expect(explained.message).toBe(`connection to ${path} is closed for writing (broken pipe)`);
      expect(explained.hint).toContain("stop sending");
      expect(explained.cause).toBe(err);
    } finally {
      server.close();
    }
  });
});

describe("explain() on Node-shaped errors that loopback cannot produce safely", () => {
  test.each<[ReturnType<typeof systemError>, string, string, string[]]>([
    [
      systemError("EADDRNOTAVAIL", "listen", "192.0.2.1", 7000),
      "192.0.2.1:7000",
      "address 192.0.2.1:7000 is not available on this machine",
      ["127.0.0.1"],
    ],
    [
      systemError("EACCES", "listen", "127.0.0.1", 80),
      "127.0.0.1:80",
      "permission denied for 127.0.0.1:80",
      ["1024"],
    ],
    [
      systemError("ETIMEDOUT", "connect", "192.0.2.1", 7000),
      "192.0.2.1:7000",
      "connection to 192.0.2.1:7000 timed out",
      ["server is running", "longer timeout"],
    ],
    [
      systemError("EHOSTUNREACH", "connect", "2001:db8::1", 7000),
      "[2001:db8::1]:7000",
      "host [2001:db8::1]:7000 is unreachable",
      ["127.0.0.1"],
    ],
    [
      systemError("EMFILE", "accept"),
      "",
      "too many open files — this process has used all its file descriptors",
      ["ulimit -n", "maxConnections"],
    ],
    [
      systemError("EMFILE", "connect", "127.0.0.1", 7000),
      "127.0.0.1:7000",
      "too many open files for 127.0.0.1:7000 — this process has used all its file descriptors",
      ["ulimit -n"],
    ],
  ])("%s", (err, where, message, hintFragments) => {
    const explained = expectExplained(err, err.code ?? "", where, hintFragments);
    expect(explained.message).toBe(message);
  });

  test("every code explain() words gives one sentence naming the endpoint, and a hint", () => {
    for (const code of SYSTEM_ERROR_CODES) {
      const withAddress = explain(
        Object.assign(new Error(code), { code, syscall: "connect", address: "::1", port: 7 }),
      );
      expect(withAddress.code).toBe(code);
      expect(withAddress.message).toContain("[::1]:7");
      const withContext = explain(Object.assign(new Error(code), { code }), {
        endpoint: "/tmp/x.sock",
      });
      expect(withContext.message).toContain("/tmp/x.sock");
      const withNothing = explain(Object.assign(new Error(code), { code }));
      for (const explained of [withAddress, withContext, withNothing]) {
        expect(explained.message).not.toMatch(/undefined|\s{2}|[\n.]$/);
        expect(explained.hint).toMatch(/^[A-Z].+\.$/);
      }
    }
  });

  test("a name that did not resolve is named by its hostname", () => {
    const err = Object.assign(new Error("getaddrinfo ENOTFOUND nope.invalid"), {
      code: "ENOTFOUND",
      syscall: "getaddrinfo",
      hostname: "nope.invalid",
    });
    expect(explain(err).message).toBe("host name nope.invalid could not be resolved");
  });
});

describe("explain() on everything else", () => {
  test("a SocketError passes through, or gets the context's hint", () => {
    const cause = new Error("inner");
    const err = new SocketError(ErrorCode.ERR_FRAME_TOO_LARGE, "frame too large", {
      cause,
      hint: "Raise maxFrameBytes.",
      syscall: "read",
      address: "127.0.0.1",
      port: 1,
    });
    expect(explain(err)).toBe(err);
    expect(explain(err, { endpoint: "elsewhere:1" })).toBe(err);
    const rehinted = explain(err, { hint: "Ask the peer to send less." });
    expect(rehinted).not.toBe(err);
    expect(rehinted).toMatchObject({
      code: "ERR_FRAME_TOO_LARGE",
      message: "frame too large",
      hint: "Ask the peer to send less.",
      syscall: "read",
      address: "127.0.0.1",
      port: 1,
    });
    expect(rehinted.cause).toBe(cause);
  });

  test("the context's hint replaces the worded one; the error's address wins over the context's", () => {
    const err = systemError("ECONNREFUSED", "connect", "127.0.0.1", 7000);
    const explained = explain(err, { hint: "Start it with: pnpm tcp:server", endpoint: "x:1" });
    expect(explained.hint).toBe("Start it with: pnpm tcp:server");
    expect(explained.message).toContain("127.0.0.1:7000");
    expect(explained.message).not.toContain("x:1");
  });

  test("an unknown code is kept with the original message and no hint", () => {
    const err = Object.assign(new RangeError("Port should be >= 0 and < 65536. Received 70000."), {
      code: "ERR_SOCKET_BAD_PORT",
    });
    const explained = explain(err);
    expect(explained).toMatchObject({ code: "ERR_SOCKET_BAD_PORT", message: err.message });
    expect(explained.hint).toBeUndefined();
    expect(explained.cause).toBe(err);
    expect(explain(err, { hint: "Use 0–65535." }).hint).toBe("Use 0–65535.");
  });

  test("an error without a code is ERR_UNKNOWN", () => {
    const err = new Error("something broke");
    expect(explain(err)).toMatchObject({ code: ErrorCode.ERR_UNKNOWN, message: "something broke" });
    expect(explain(Object.assign(new Error("n"), { code: 42 })).code).toBe("ERR_UNKNOWN");
  });

  test.each([
    ["a string", "boom", "boom"],
    ["a number", 42, "42"],
    ["undefined", undefined, "undefined"],
    ["null", null, "null"],
    ["a plain object with a code", { code: "ECONNREFUSED" }, "[object Object]"],
  ])("%s becomes ERR_UNKNOWN with the value as cause", (_, value, message) => {
    const explained = explain(value);
    expect(explained).toBeInstanceOf(SocketError);
    expect(explained.code).toBe("ERR_UNKNOWN");
    expect(explained.message).toBe(message);
    expect(explained.cause).toBe(value);
  });
});

describe("two copies of core", () => {
  test("recognise each other's SocketError: instanceof, isSocketError() and explain() keep code and hint", async () => {
    // A second instance of the module, as when two copies of core are installed side by side.
    const secondCopy = "../src/errors.js?second-copy";
    const other = (await import(secondCopy)) as typeof import("../src/errors.js");
    expect(other.SocketError).not.toBe(SocketError);
    const theirs = new other.SocketError(ErrorCode.ERR_TIMEOUT, "too slow", { hint: "wait" });
    expect(theirs instanceof SocketError).toBe(true);
    expect(isSocketError(theirs, ErrorCode.ERR_TIMEOUT)).toBe(true);
    const explained = explain(theirs);
    expect(explained).toBe(theirs);
    expect(explained.hint).toBe("wait");
    const ours = explain(
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    );
    expect(other.isSocketError(ours, "ECONNREFUSED")).toBe(true);
    expect(new Error("plain") instanceof SocketError).toBe(false);
    expect(isSocketError({ code: "ERR_TIMEOUT" })).toBe(false);
  });
});
