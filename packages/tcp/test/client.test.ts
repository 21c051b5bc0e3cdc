/**
 * What only the client does: the connect timeout, localhost over both families, unix paths
 * that do not exist, option checks. Refusal, retries and aborts run in the contract suite.
 */

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect } from "../src/index.js";
import {
  addressOf,
  drain,
  recorder,
  stalledEndpoint,
  startClient,
  startServer,
  tempDir,
  within,
} from "./_sockets.js";

describe.each(["127.0.0.1", "::1"])("connect to %s", (host) => {
  it("fails with ERR_TIMEOUT when the server never answers, once per attempt", async () => {
    const endpoint = await stalledEndpoint(host);
    const { trace, count } = recorder();
    const error = await within(
      connect(endpoint, { connectTimeoutMs: 50, retries: 1, backoff: { initialMs: 1 }, trace }),
      "the connect timeout",
    ).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: "SocketError", code: "ERR_TIMEOUT" });
    expect((error as Error).message).toContain(endpoint.replace("tcp://", ""));
    expect(count("connect")).toBe(2);
  });
});

describe("connect", () => {
  it("tries ::1 and then 127.0.0.1 for localhost", async () => {
    const server = await startServer("tcp://127.0.0.1:0", {});
    const port = server.endpoint.transport === "tcp" ? server.endpoint.port : 0;
    const { trace, events } = recorder();
    const client = await startClient(`tcp://localhost:${port}`, { trace });
    // Two sockets: the refused one on ::1 is closed, then one connects to 127.0.0.1.
    expect(events.filter((event) => event.type === "connect")).toEqual([
      { type: "connect", remote: { transport: "tcp", host: "::1", port }, fd: expect.any(Number) },
      {
        type: "connect",
        remote: { transport: "tcp", host: "127.0.0.1", port },
        fd: expect.any(Number),
      },
    ]);
    expect(client.remote).toEqual(server.endpoint);
    // strace's order: socket, connect refused, close, and a new socket for the next address.
    expect(events.map((event) => event.type)).toEqual([
      "socket",
      "connect",
      "close",
      "socket",
      "connect",
    ]);
    expect(events[2]?.fd).toBe(events[0]?.fd);
  });

  it("reports a unix path where no socket exists as ENOENT, naming the path", async () => {
    const path = join(tempDir(), "nobody.sock");
    const error = await connect(`unix://${path}`).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: "SocketError", code: "ENOENT" });
    expect((error as Error).message).toContain(path);
  });

  it("closes an idle client connection with ERR_TIMEOUT when asked to", async () => {
    const server = await startServer(":0", {});
    const client = await startClient(addressOf(server), { idleTimeoutMs: 30 });
    const { error } = await within(drain(client), "the idle timeout");
    expect(error).toMatchObject({ code: "ERR_TIMEOUT" });
  });

  it("refuses udp:// endpoints and bad options, naming them", async () => {
    await expect(connect("udp://127.0.0.1:7")).rejects.toMatchObject({
      code: "ERR_INVALID_ENDPOINT",
    });
    const timeout = await connect(":7", { connectTimeoutMs: -1 }).catch((err: unknown) => err);
    expect(timeout).toBeInstanceOf(RangeError);
    expect(timeout).toMatchObject({
      code: "ERR_OUT_OF_RANGE",
      message:
        'The value of "connectTimeoutMs" is out of range. It must be an integer >= 0 && <= 2147483647. Received -1',
    });
    const typed = await connect(":7", { connectTimeoutMs: "5" as never }).catch(
      (err: unknown) => err,
    );
    expect(typed).toBeInstanceOf(TypeError);
    expect(typed).toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "connectTimeoutMs" option must be of type number. Received type string ('5')`,
    });
    await expect(connect(":7", { retries: 0.5 })).rejects.toThrow(RangeError);
    await expect(connect(":7", { backoff: { factor: 0.5 } })).rejects.toMatchObject({
      code: "ERR_OUT_OF_RANGE",
      message:
        'The value of "backoff.factor" is out of range. It must be a finite number >= 1. Received 0.5',
    });
    // @ts-expect-error: not a signal
    await expect(connect(":7", { signal: {} })).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message:
        'The "signal" option must be an instance of AbortSignal. Received an instance of Object',
    });
  });
});
