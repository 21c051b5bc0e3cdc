/**
 * The socket controls a node:net user expects: `noDelay` and `keepAlive` (with its delay) on
 * both sides, `ref()`/`unref()` on servers and connections, and the underlying socket.
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";
import { afterEach, describe, expect, it, vi } from "vitest";
import { connect, listen } from "../src/index.js";
import { addressOf, startClient, startServer, within } from "./_sockets.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** The arguments each socket was given, by socket, for `setNoDelay` and `setKeepAlive`. */
function spyOnSocketOptions() {
  const noDelay = vi.spyOn(net.Socket.prototype, "setNoDelay");
  const keepAlive = vi.spyOn(net.Socket.prototype, "setKeepAlive");
  const callsOn = (spy: typeof noDelay | typeof keepAlive, socket: net.Socket) =>
    spy.mock.calls.filter((_, i) => spy.mock.contexts[i] === socket);
  return {
    noDelayOf: (socket: net.Socket) => callsOn(noDelay, socket),
    keepAliveOf: (socket: net.Socket) => callsOn(keepAlive, socket),
  };
}

describe.each(["tcp", "tls"])("socket options over %s", (scheme) => {
  it("defaults: TCP_NODELAY on, no keep-alive, on both sides", async () => {
    const spies = spyOnSocketOptions();
    const server = await startServer(`${scheme}://127.0.0.1:0`, {});
    const client = await startClient(addressOf(server), {});
    const accepted = (await within(server[Symbol.asyncIterator]().next(), "accept")).value;
    for (const socket of [client.socket, accepted?.socket as net.Socket]) {
      expect(socket).toBeInstanceOf(scheme === "tls" ? tls.TLSSocket : net.Socket);
      expect(spies.noDelayOf(socket)).toEqual([[true]]);
      expect(spies.keepAliveOf(socket)).toEqual([]);
    }
    expect(client.socket.remotePort).toBe(accepted?.socket.localPort);
  });

  it("noDelay: false and keepAlive with its delay reach every socket", async () => {
    const spies = spyOnSocketOptions();
    const controls = { noDelay: false, keepAlive: true, keepAliveInitialDelayMs: 30_000 };
    const server = await startServer(`${scheme}://127.0.0.1:0`, controls);
    const client = await startClient(addressOf(server), controls);
    const accepted = (await within(server[Symbol.asyncIterator]().next(), "accept")).value;
    for (const socket of [client.socket, accepted?.socket as net.Socket]) {
      expect(spies.noDelayOf(socket)).toEqual([[false]]);
      expect(spies.keepAliveOf(socket)).toEqual([[true, 30_000]]);
    }
    // Messages still flow with Nagle on.
    await client.send("with Nagle");
    const first = await within(
      accepted?.[Symbol.asyncIterator]().next() as Promise<IteratorResult<string>>,
      "the message",
    );
    expect(first.value).toBe("with Nagle");
  });
});

describe("socket option checks", () => {
  it("name the option and the value", async () => {
    // @ts-expect-error: not a boolean
    await expect(listen(":0", { noDelay: "yes" })).rejects.toThrow(
      /^The "noDelay" option must be of type boolean. Received type string \('yes'\)$/,
    );
    // @ts-expect-error: not a boolean
    await expect(connect(":7", { keepAlive: 1 })).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message: 'The "keepAlive" option must be of type boolean. Received type number (1)',
    });
    await expect(connect(":7", { keepAliveInitialDelayMs: -1 })).rejects.toMatchObject({
      code: "ERR_OUT_OF_RANGE",
      message:
        'The value of "keepAliveInitialDelayMs" is out of range. It must be an integer >= 0 && <= 2147483647. Received -1',
    });
  });
});

describe("ref() and unref()", () => {
  /** Handles of `type` that keep this thread's event loop alive. */
  const alive = (type: string) =>
    process.getActiveResourcesInfo().filter((name) => name === type).length;

  it("let the process exit while a server listens and a connection is open, and undo it", async () => {
    const server = await startServer(":0", {});
    const listening = alive("TCPServerWrap");
    expect(server.unref()).toBe(server);
    expect(alive("TCPServerWrap")).toBe(listening - 1);
    server.ref();
    expect(alive("TCPServerWrap")).toBe(listening);

    const client = await startClient(addressOf(server), {});
    const open = alive("TCPSocketWrap");
    expect(client.unref()).toBe(client);
    expect(alive("TCPSocketWrap")).toBe(open - 1);
    client.ref();
    expect(alive("TCPSocketWrap")).toBe(open);
  });
});

describe("unref() in a real process", () => {
  it("lets a process with a listening server and an open connection exit by itself", async () => {
    // The built package (`pnpm build`), as a user's program loads it.
    const dist = new URL("../dist/index.js", import.meta.url).href;
    const script = `
      import { connect, listen } from ${JSON.stringify(dist)};
      const server = await listen("tcp://127.0.0.1:0", {
        handler: (connection) => { connection.unref(); return new Promise(() => {}); },
      });
      server.unref();
      const client = await connect(server.endpoint);
      client.unref();
      await client.send("still open");
      console.log("unref'd");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    const exited = once(child, "exit");
    try {
      const [code] = (await within(exited, "the process to exit by itself")) as [number];
      expect({ code, stdout }).toEqual({ code: 0, stdout: "unref'd\n" });
    } finally {
      child.kill();
    }
  });
});
