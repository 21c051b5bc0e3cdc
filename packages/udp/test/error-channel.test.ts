/**
 * One error channel: an error that belongs to no caller goes to the object's `onError`
 * option, and with nobody listening to a process warning; never a crash, never dropped.
 */

import { once } from "node:events";
import { isSocketError, type SocketError } from "@socket-lab/core";
import { describe, expect, it } from "vitest";
import { createRequester, serveRequests } from "../src/index.js";
import { useSockets, WAIT_MS } from "./_families.js";

/** An IPv6 socket cannot send to an IPv4 address: the OS fails that write() with EINVAL. */
const UNREACHABLE = "udp://127.0.0.1:9";

/** The next process warning, or a rejection after WAIT_MS. */
async function nextWarning(): Promise<Error & { code?: string; detail?: string }> {
  const [warning] = await Promise.race([
    once(process, "warning"),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("no warning")), WAIT_MS).unref(),
    ),
  ]);
  return warning as Error & { code?: string; detail?: string };
}

/** Resolves with the first value `push` is called with. */
function firstOf<T>(): { promise: Promise<T>; push: (value: T) => void } {
  let push: (value: T) => void = () => {};
  const promise = new Promise<T>((resolve) => {
    push = resolve;
  });
  return { promise, push };
}

describe("the onError channel", () => {
  const open = useSockets();

  it("bind({ onError }) gets the errors the OS reports after the fact", async () => {
    const first = firstOf<SocketError>();
    const socket = await open("udp://[::1]:0", { onError: first.push });
    socket.write("x", UNREACHABLE);
    expect(isSocketError(await first.promise, "EINVAL")).toBe(true);
    expect(socket.stats.errors).toBe(1);
  });

  it("a socket nobody listens to turns such an error into a process warning", async () => {
    const socket = await open("udp://[::1]:0");
    const warned = nextWarning();
    socket.write("x", UNREACHABLE);
    const warning = await warned;
    expect(warning).toMatchObject({ name: "SocketError", code: "EINVAL" });
    expect(warning.message).toContain("127.0.0.1:9");
  });

  it("createRequester({ onError }) gets a socket error while no request waits", async () => {
    const socket = await open("udp://[::1]:0");
    const first = firstOf<SocketError>();
    await using _requester = createRequester(socket, { to: "udp://[::1]:9", onError: first.push });
    socket.write("x", UNREACHABLE);
    expect(isSocketError(await first.promise, "EINVAL")).toBe(true);
  });

  it("serveRequests({ onError }) gets a socket error with no request", async () => {
    const socket = await open("udp://[::1]:0");
    const first = firstOf<[unknown, unknown]>();
    await using server = serveRequests(socket, () => "", {
      onError: (error, request) => first.push([error, request]),
    });
    socket.write("x", UNREACHABLE);
    const [error, request] = await first.promise;
    expect(isSocketError(error, "EINVAL")).toBe(true);
    expect(request).toBeUndefined();
    expect(server.stats.errors).toBe(1);
  });

  it("a request server with no onError reports a handler's throw as a warning with its stack", async () => {
    const socket = await open("udp://127.0.0.1:0");
    await using _server = serveRequests(socket, function throwingHandler() {
      throw new Error("handler bug");
    });
    const client = await open("udp://127.0.0.1:0", { connect: socket.local });
    await using requester = createRequester(client, { retries: 0, backoff: { initialMs: 50 } });
    const warned = nextWarning();
    await requester.request("x").catch(() => {});
    const warning = await warned;
    expect(warning.message).toBe("handler bug");
    expect(warning.detail).toMatch(/^Error: handler bug\n\s+at \S*throwingHandler /);
  });
});
