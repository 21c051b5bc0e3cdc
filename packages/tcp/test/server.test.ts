/**
 * What only the server does: unix socket files (stale, live, not a socket, permissions), the
 * iterator of connections, the deadline of a graceful close, handler errors, option checks.
 */

import { once } from "node:events";
import { existsSync, linkSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type Connection,
  DEFAULT_UNIX_SOCKET_MODE,
  lengthPrefixed,
  listen,
  type Server,
} from "../src/index.js";
import {
  addressOf,
  drain,
  nextEvent,
  recorder,
  startClient,
  startServer,
  tempDir,
  until,
  within,
} from "./_sockets.js";

describe("listen on a unix path", () => {
  it("creates the socket file owner-only, or with unixSocketMode, and removes it on close", async () => {
    const dir = tempDir();
    const server = await listen(`unix://${join(dir, "a.sock")}`);
    expect(statSync(join(dir, "a.sock")).mode & 0o777).toBe(DEFAULT_UNIX_SOCKET_MODE);
    const shared = await listen(`unix://${join(dir, "b.sock")}`, { unixSocketMode: 0o660 });
    expect(statSync(join(dir, "b.sock")).mode & 0o777).toBe(0o660);
    await server.close();
    await shared.close();
    expect(existsSync(join(dir, "a.sock"))).toBe(false);
    expect(existsSync(join(dir, "b.sock"))).toBe(false);
  });

  it("removes a stale socket file that nothing answers on, and listens", async () => {
    const dir = tempDir();
    const stale = join(dir, "stale.sock");
    const gone = net.createServer().listen(join(dir, "gone.sock"));
    await within(once(gone, "listening"), "listening");
    linkSync(join(dir, "gone.sock"), stale); // a socket file whose server is gone
    gone.close();
    await within(once(gone, "close"), "close");
    expect(statSync(stale).isSocket()).toBe(true);

    const server = await startServer(`unix://${stale}`, {});
    const client = await startClient(addressOf(server), {});
    await client.send("hello");
    const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
    const first = await within(
      (accepted.value as Connection<string>)[Symbol.asyncIterator]().next(),
      "hello",
    );
    expect(first.value).toBe("hello");
  });

  it("leaves a live socket alone: EADDRINUSE, and the live server keeps working", async () => {
    const path = join(tempDir(), "live.sock");
    const live = await startServer(`unix://${path}`, {
      handler: async (connection) => {
        for await (const line of connection) await connection.send(line);
      },
    });
    await expect(listen(`unix://${path}`)).rejects.toMatchObject({ code: "EADDRINUSE" });
    expect(statSync(path).isSocket()).toBe(true);
    const client = await startClient(addressOf(live), {});
    await client.send("still here");
    expect((await within(client[Symbol.asyncIterator]().next(), "echo")).value).toBe("still here");
  });

  it("a path whose directory is missing: ENOENT, as the kernel said (libuv says EACCES)", async () => {
    const path = join(tempDir(), "missing", "a.sock");
    const error = await listen(`unix://${path}`).catch((err: unknown) => err);
    expect(error).toMatchObject({
      name: "SocketError",
      code: "ENOENT",
      address: path,
      message: `no directory exists for the socket file ${path}`,
    });
    expect((error as Error).cause).toMatchObject({ cause: { code: "EACCES" } });
  });

  it("never removes a path that is not a socket: ENOTSOCK", async () => {
    const path = join(tempDir(), "file.sock");
    writeFileSync(path, "precious");
    const error = await listen(`unix://${path}`).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: "SocketError", code: "ENOTSOCK" });
    expect(statSync(path).isFile()).toBe(true);
  });
});

describe("listen on tcp", () => {
  it("binds the host it is told, 127.0.0.1 for ':0', and reports the chosen port", async () => {
    const { trace, events } = recorder();
    const server = await startServer(":0", { trace, backlog: 5 });
    expect(server.endpoint).toMatchObject({ transport: "tcp", host: "127.0.0.1" });
    expect(server.endpoint.transport === "tcp" && server.endpoint.port).toBeGreaterThan(0);
    const fd = events[0]?.fd;
    expect(fd).toBeGreaterThan(2);
    expect(events).toEqual([
      { type: "socket", attributes: { domain: 2, type: 1, protocol: 6 }, fd },
      { type: "bind", local: server.endpoint, fd },
      { type: "listen", backlog: 5, fd },
    ]);
  });

  it("refuses udp:// endpoints and bad options, naming them", async () => {
    await expect(listen("udp://127.0.0.1:0")).rejects.toMatchObject({
      code: "ERR_INVALID_ENDPOINT",
    });
    await expect(listen(":0", { backlog: -1 })).rejects.toThrow(RangeError);
    await expect(listen(":0", { maxConnections: 0 })).rejects.toThrow(/maxConnections/);
    await expect(listen(":0", { idleTimeoutMs: Number.NaN })).rejects.toMatchObject({
      code: "ERR_OUT_OF_RANGE",
      message:
        'The value of "idleTimeoutMs" is out of range. It must be an integer >= 0 && <= 2147483647. Received NaN',
    });
    await expect(listen(":0", { unixSocketMode: 0o1000 })).rejects.toThrow(/unixSocketMode/);
    await expect(listen(":0", { highWaterMark: 1.5 })).rejects.toThrow(/highWaterMark/);
    // @ts-expect-error: not a function
    await expect(listen(":0", { handler: 5 })).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message: 'The "handler" option must be of type function. Received type number (5)',
    });
    // @ts-expect-error: not a framing
    await expect(listen(":0", { framing: {} })).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message:
        'The "framing" option must be a Framing such as lines() or lengthPrefixed(). Received an instance of Object',
    });
  });
});

describe("connections", () => {
  it("come out of `for await (const c of server)`, which ends when the server closes", async () => {
    const server = await listen(":0", { framing: lengthPrefixed() });
    const clients = [
      await startClient(addressOf(server), { framing: lengthPrefixed() }),
      await startClient(addressOf(server), { framing: lengthPrefixed() }),
    ];
    const seen: number[] = [];
    let closing: Promise<unknown> | undefined;
    const serving = (async () => {
      for await (const connection of server) {
        seen.push(connection.id);
        void drain(connection); // its loop ends at the close, and then the server ends its side
        if (seen.length === 2) closing = server.close();
      }
    })();
    await within(serving, "the loop to end");
    expect(seen).toHaveLength(2);
    for (const client of clients) {
      expect((await within(drain(client), "the end")).messages).toEqual([]);
      await client.close();
    }
    expect(await within(closing ?? Promise.resolve(), "close")).toEqual({
      ended: 2,
      destroyed: 0,
      unsettled: 0,
    });
    expect(server.stats).toEqual({ accepted: 2, rejected: 0, dropped: 0, closed: 2 });
    expect(server.connectionCount).toBe(0);
    // stats is a snapshot: writing to one changes nothing.
    (server.stats as { accepted: number }).accepted = 99;
    expect(server.stats.accepted).toBe(2);
  });

  it("go to the handler instead, where a thrown error is reported with its stack, never fatal", async () => {
    const server = await startServer(":0", {
      handler: async function lineHandler(connection) {
        for await (const line of connection) throw new Error(`cannot handle ${line}`);
      },
    });
    expect(() => server[Symbol.asyncIterator]()).toThrow(TypeError);
    const reported = nextEvent(server, "error");
    const client = await startClient(addressOf(server), {});
    await client.send("this");
    const error = (await reported) as Error & { cause: Error; hint: string };
    expect(error).toMatchObject({
      name: "SocketError",
      code: "ERR_UNKNOWN",
      message: "cannot handle this",
      cause: { name: "Error", message: "cannot handle this" },
    });
    expect(error.hint).toMatch(/^The handler of the connection from 127\.0\.0\.1:\d+ threw this/);
    // The stack is the handler's, not the server's: its function and file, first.
    expect(error.stack).toMatch(
      /^SocketError: cannot handle this\n\s+at lineHandler .*server\.test\.ts:\d+/,
    );
    // The handler returned, so the server closed its side.
    expect((await within(drain(client), "the end")).error).toBeUndefined();
  });

  it("report handler errors as process warnings, with the stack, when nobody listens for 'error'", async () => {
    const server = await startServer(":0", {
      handler: function unheardHandler() {
        throw new Error("unheard");
      },
    });
    const warned = within(once(process, "warning"), "the warning");
    await startClient(addressOf(server), {});
    const [warning] = (await warned) as [Error & { detail?: string }];
    expect(warning).toMatchObject({ name: "SocketError", code: "ERR_UNKNOWN" });
    expect(warning.message).toMatch(/^unheard\. The handler of the connection from/);
    // Node prints `detail` under the warning's line: the thrown error's own stack.
    expect(warning.detail).toMatch(/^Error: unheard\n\s+at unheardHandler .*server\.test\.ts:\d+/);
  });

  it("hands handler errors to the onError option, and then not to (deprecated) 'error' listeners", async () => {
    const reported: Error[] = [];
    const server = await startServer(":0", {
      handler: function failingHandler() {
        throw new Error("to onError");
      },
      onError: (error) => reported.push(error),
    });
    const heard: Error[] = [];
    server.on("error", (error) => heard.push(error));
    await startClient(addressOf(server), {});
    await until(() => reported.length === 1, "the report");
    expect(reported[0]).toMatchObject({ name: "SocketError", message: "to onError" });
    expect(heard).toEqual([]);
  });

  it("refuses an onError that is not a function", async () => {
    // @ts-expect-error: not a function
    await expect(listen(":0", { onError: "log" })).rejects.toThrow(TypeError);
  });
});

describe("close()", () => {
  it("destroys at the deadline what does not end, and resolves with the counts", async () => {
    const server = await listen(":0");
    const endpoint = server.endpoint as { host: string; port: number };
    // A raw peer that keeps its side open and never ends it.
    const stubborn = net.connect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true });
    stubborn.on("error", () => {});
    const stubbornSawEnd = once(stubborn, "end");
    const polite = await startClient(addressOf(server), {});
    const accepted = server[Symbol.asyncIterator]();
    for (let i = 0; i < 2; i++) {
      const { value } = await within(accepted.next(), "accept");
      void drain(value as Connection<string>);
    }
    await accepted.return?.(); // the loop is left: close() waits for no loop body
    const politeEnd = drain(polite).then(() => polite.close());

    const closing = server.close({ timeoutMs: 50 });
    expect(server.close()).toBe(closing);
    expect(await within(closing, "close")).toEqual({ ended: 1, destroyed: 1, unsettled: 0 });
    await within(politeEnd, "the polite client");
    await within(stubbornSawEnd, "the stubborn peer to see the end");
    stubborn.destroy();
  });

  it("is what `await using` calls", async () => {
    let endpoint = "";
    {
      await using server = await listen(":0");
      endpoint = addressOf(server);
    }
    const error = await startClient(endpoint, {}).catch((err: unknown) => err);
    expect(error).toMatchObject({ code: "ECONNREFUSED" });
  });
});

/** A promise and the function that resolves it: a gate a test opens when it chooses. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A few turns of the event loop: enough for a close() that waits for nothing to resolve. */
async function turns(count = 10): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise(setImmediate);
}

/**
 * Serves one line from a client with `serve(connection)`, which closes the connection and then
 * waits for a gate; closes the server meanwhile. Returns the steps `serve` had reached when
 * `close()` resolved, after checking that it had not resolved while the gate was shut.
 */
async function closeWhileServing(
  start: (serve: (connection: Connection<string>) => Promise<void>) => Promise<Server<string>>,
): Promise<{ result: unknown; steps: string[] }> {
  const release = gate();
  const steps: string[] = [];
  const server = await start(async (connection) => {
    for await (const line of connection) steps.push(line);
    await connection.close();
    steps.push("closed");
    await release.opened;
    steps.push("done");
  });
  const client = await startClient(addressOf(server), {});
  await client.send("hello");
  await until(() => steps.length === 1, "a line to be read");
  let closed = false;
  const closing = server.close().then((result) => {
    closed = true;
    return { result, steps: [...steps] };
  });
  // The server ends the connection's loop; the client sees the end and closes its side.
  expect((await within(drain(client), "the server's end")).error).toBeUndefined();
  await client.close();
  await until(() => steps.includes("closed") && server.connectionCount === 0, "the close");
  await turns();
  expect(closed).toBe(false);
  release.open();
  return within(closing, "close");
}

describe("close() waits for what the server started", () => {
  it("waits for a handler still running after its connection closed", async () => {
    const closed = await closeWhileServing((serve) => startServer(":0", { handler: serve }));
    expect(closed).toEqual({
      result: { ended: 1, destroyed: 0, unsettled: 0 },
      steps: ["hello", "closed", "done"],
    });
  });

  it("waits for a `for await` loop body still running", async () => {
    let loop: Promise<void> = Promise.resolve();
    const closed = await closeWhileServing(async (serve) => {
      const server = await startServer<string>(":0", {});
      loop = (async () => {
        for await (const connection of server) await serve(connection);
      })();
      return server;
    });
    expect(closed).toEqual({
      result: { ended: 1, destroyed: 0, unsettled: 0 },
      steps: ["hello", "closed", "done"],
    });
    await within(loop, "the loop to end");
  });

  it("reports a handler that rejects during the close to onError, with its stack", async () => {
    const release = gate();
    const errors: Error[] = [];
    const server = await startServer(":0", {
      handler: async function lateHandler(connection) {
        for await (const _ of connection);
        await release.opened;
        throw new Error("failed while closing");
      },
      onError: (error) => errors.push(error),
    });
    const client = await startClient(addressOf(server), {});
    await until(() => server.connectionCount === 1, "the accept");
    const closing = server.close().then((result) => ({ result, errors: [...errors] }));
    await turns();
    release.open();
    expect((await within(drain(client), "the server's end")).error).toBeUndefined();
    await client.close();
    const { result, errors: reported } = await within(closing, "close");
    expect(result).toEqual({ ended: 1, destroyed: 0, unsettled: 0 });
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      name: "SocketError",
      code: "ERR_UNKNOWN",
      message: "failed while closing",
    });
    expect(reported[0]?.stack).toMatch(
      /^SocketError: failed while closing\n\s+at lateHandler .*server\.test\.ts:\d+/,
    );
  });

  it("is bounded when a peer never closes and a handler never returns", async () => {
    let reading = 0;
    let readingDone = 0;
    const server = await listen(":0", {
      handler: async (connection) => {
        if (reading++ === 0) {
          // reads until its connection goes away: the deadline's destroy ends it
          await drain(connection);
          readingDone++;
        } else await new Promise(() => {}); // never settles
      },
    });
    const endpoint = server.endpoint as { host: string; port: number };
    const peers = [0, 1].map(() => {
      // Raw peers that keep their side open and never end it.
      const peer = net.connect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true });
      peer.on("error", () => {});
      return peer;
    });
    await until(() => reading === 2, "both handlers to start");
    const result = await within(server.close({ timeoutMs: 100 }), "close");
    expect(result).toEqual({ ended: 0, destroyed: 2, unsettled: 1 });
    expect(readingDone).toBe(1);
    for (const peer of peers) peer.destroy();
  });
});

describe("listen({ signal })", () => {
  it("rejects with the signal's reason and leaves nothing bound when it fires first", async () => {
    await expect(listen(":0", { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: "AbortError",
    });
    // Fired while binding: the port it got is closed again.
    const controller = new AbortController();
    const bound = recorder();
    const listening = listen(":0", { signal: controller.signal, trace: bound.trace });
    const reason = new Error("changed my mind");
    controller.abort(reason);
    await expect(within(listening, "the abort")).rejects.toBe(reason);
    const bind = bound.events.find((event) => event.type === "bind");
    expect(bind).toBeDefined();
    const { port } = (bind as { local: { port: number } }).local;
    const refused = net.connect({ host: "127.0.0.1", port });
    const [error] = (await within(once(refused, "error"), "connect to fail")) as [
      NodeJS.ErrnoException,
    ];
    expect(error.code).toBe("ECONNREFUSED");
    // @ts-expect-error: not a signal
    await expect(listen(":0", { signal: "stop" })).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "signal" option must be an instance of AbortSignal. Received type string ('stop')`,
    });
  });

  it("closes the server, like close(), when it fires later", async () => {
    const controller = new AbortController();
    const server = await startServer(":0", { signal: controller.signal });
    const client = await startClient(addressOf(server), {});
    const accepting = server[Symbol.asyncIterator]();
    const accepted = await within(accepting.next(), "accept");
    void drain(accepted.value as Connection<string>);
    await accepting.return?.();
    controller.abort();
    // Its connection is ended as in close(), and no more are accepted.
    expect((await within(drain(client), "the server's end")).error).toBeUndefined();
    await client.close();
    await until(() => server.connectionCount === 0, "the connection to close");
    expect(await within(server[Symbol.asyncIterator]().next(), "the loop to end")).toEqual({
      value: undefined,
      done: true,
    });
    await expect(startClient(addressOf(server), {})).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
  });
});
