import { formatAddress, isSocketError, type SocketError } from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import {
  createRequester,
  type Datagram,
  decodeRequestFrame,
  encodeRequestFrame,
  type RequestHandler,
  type ServeRequestsOptions,
  serveRequests,
} from "../src/index.js";
import { FAMILIES, nextDatagram, useSockets, WAIT_MS } from "./_families.js";

/** A promise and the function that settles it: lets a test hold a handler until it says so. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe.each(FAMILIES)("request server over $name", (family) => {
  const open = useSockets();

  /** A server socket running `serveRequests`, a client socket, and where to send. */
  async function setUp(handler: RequestHandler, options?: ServeRequestsOptions) {
    const socket = await open(family.anyPort);
    const server = serveRequests(socket, handler, options);
    const client = await open(family.anyPort);
    return { socket, server, client, to: formatAddress(socket.local) };
  }

  it("answers a retried request (same sender, same id) from its cache: the handler runs once", async () => {
    let calls = 0;
    const { server, client, to } = await setUp((request) => `${++calls}:${request.data}`, {
      maxAmplification: 2,
    });
    const request = encodeRequestFrame({ kind: "request", id: 9 }, "add");
    await client.send(request, to);
    const first = await nextDatagram(client);
    await client.send(request, to);
    const second = await nextDatagram(client);
    expect(decodeRequestFrame(first.data)).toEqual({
      kind: "reply",
      id: 9,
      payload: Buffer.from("1:add"),
    });
    expect(second.data.equals(first.data)).toBe(true);
    expect(calls).toBe(1);
    await vi.waitFor(() => expect(server.stats.replies).toBe(2), { timeout: WAIT_MS });
    expect(server.stats).toMatchObject({ requests: 2, handled: 1, duplicates: 1 });
  });

  it("runs the handler again for the same id from another sender", async () => {
    let calls = 0;
    const { client, to } = await setUp(() => String(++calls));
    const other = await open(family.anyPort);
    const request = encodeRequestFrame({ kind: "request", id: 1 }, "x");
    await client.send(request, to);
    await other.send(request, to);
    expect(decodeRequestFrame((await nextDatagram(client)).data).payload.toString()).toBe("1");
    expect(decodeRequestFrame((await nextDatagram(other)).data).payload.toString()).toBe("2");
  });

  it("does not run the handler again for a retry that arrives while it is still running", async () => {
    const held = gate();
    let calls = 0;
    const { server, client, to } = await setUp(async (request) => {
      calls++;
      await held.opened;
      return request.data;
    });
    const requester = createRequester(client, { to, timeoutMs: 50, retries: 50, backoff: 1 });
    const pending = requester.request("slow");
    await vi.waitFor(() => expect(server.stats.duplicates).toBeGreaterThanOrEqual(1), {
      timeout: WAIT_MS,
    });
    held.open();
    expect((await pending).data.toString()).toBe("slow");
    expect(calls).toBe(1);
    expect(requester.stats.tries).toBeGreaterThanOrEqual(2);
    expect(server.stats.handled).toBe(1);
  });

  it("counts and ignores datagrams not in the header format, and still answers valid requests", async () => {
    const { server, client, to } = await setUp((request) => request.data);
    const garbage = [
      Buffer.alloc(0),
      Buffer.from("hello"),
      Buffer.from("534c0101", "hex"),
      Buffer.from("4c53010100000001", "hex"),
      Buffer.from("534c020100000001", "hex"),
      Buffer.from("534c010300000001", "hex"),
      encodeRequestFrame({ kind: "reply", id: 1 }, "a reply is not a request"),
      ...fc
        .sample(fc.uint8Array({ maxLength: 64 }), { numRuns: 20, seed: 7 })
        .filter((bytes) => !(bytes[0] === 0x53 && bytes[1] === 0x4c)),
    ];
    for (const datagram of garbage) await client.send(datagram, to);
    await client.send(encodeRequestFrame({ kind: "request", id: 5 }, "valid"), to);
    const reply = decodeRequestFrame((await nextDatagram(client)).data);
    expect(reply).toEqual({ kind: "reply", id: 5, payload: Buffer.from("valid") });
    expect(server.stats).toMatchObject({ invalid: garbage.length, requests: 1, handled: 1 });
  });

  it("refuses a reply larger than its request (maxAmplification 1), counts it and sends nothing", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const { server, client, to } = await setUp(
      (request) => {
        calls++;
        return request.data.toString() === "big" ? "x".repeat(100) : request.data;
      },
      { onError: (error) => errors.push(error) },
    );
    const big = encodeRequestFrame({ kind: "request", id: 1 }, "big");
    await client.send(big, to);
    await client.send(encodeRequestFrame({ kind: "request", id: 2 }, "ok"), to);
    // The first datagram back answers request 2: request 1's reply was never sent.
    expect(decodeRequestFrame((await nextDatagram(client)).data).id).toBe(2);
    expect(server.stats).toMatchObject({ refused: 1, replies: 1 });
    expect(isSocketError(errors[0], "ERR_DATAGRAM_TOO_LARGE")).toBe(true);
    expect((errors[0] as SocketError).message).toMatch(
      /^reply of 108 bytes to a 11-byte request from .* exceeds maxAmplification 1 \(at most 11 bytes\); not sent$/,
    );
    // A retry of the refused request does not run the handler again either.
    await client.send(big, to);
    await client.send(encodeRequestFrame({ kind: "request", id: 3 }, "ok"), to);
    expect(decodeRequestFrame((await nextDatagram(client)).data).id).toBe(3);
    expect(calls).toBe(3);
    expect(server.stats.duplicates).toBe(1);
  });

  it("sends a larger reply when maxAmplification allows it", async () => {
    const { client, to } = await setUp(() => "y".repeat(30), { maxAmplification: 4 });
    await client.send(encodeRequestFrame({ kind: "request", id: 1 }, "abc"), to);
    expect(decodeRequestFrame((await nextDatagram(client)).data).payload.length).toBe(30);
  });

  it("reports a handler that throws, answers nothing for it, and keeps serving", async () => {
    const errors: unknown[] = [];
    const { server, client, to } = await setUp(
      (request) => {
        if (request.data.toString() === "boom") throw new Error("handler failed");
        return request.data;
      },
      { onError: (error, request) => errors.push([error, request.data.toString()]) },
    );
    await client.send(encodeRequestFrame({ kind: "request", id: 1 }, "boom"), to);
    await client.send(encodeRequestFrame({ kind: "request", id: 2 }, "fine"), to);
    expect(decodeRequestFrame((await nextDatagram(client)).data).id).toBe(2);
    expect(server.stats.errors).toBe(1);
    expect(errors).toEqual([[new Error("handler failed"), "boom"]]);
  });

  it("drops (and counts) a request when maxInFlight handlers are running", async () => {
    const held = gate();
    const { server, client, to } = await setUp(
      async (request) => {
        await held.opened;
        return request.data;
      },
      { maxInFlight: 1 },
    );
    await client.send(encodeRequestFrame({ kind: "request", id: 1 }, "a"), to);
    await client.send(encodeRequestFrame({ kind: "request", id: 2 }, "b"), to);
    await vi.waitFor(() => expect(server.stats.busy).toBe(1), { timeout: WAIT_MS });
    held.open();
    expect(decodeRequestFrame((await nextDatagram(client)).data).id).toBe(1);
    // Request 2 was not remembered, so its retry is handled.
    await client.send(encodeRequestFrame({ kind: "request", id: 2 }, "b"), to);
    expect(decodeRequestFrame((await nextDatagram(client)).data).id).toBe(2);
  });

  it("forgets requests after dedupWindowMs, or beyond dedupMaxEntries", async () => {
    let calls = 0;
    const expired = await setUp(() => String(++calls), { dedupWindowMs: 0 });
    const once = encodeRequestFrame({ kind: "request", id: 1 }, "a");
    for (let i = 0; i < 2; i++) {
      await expired.client.send(once, expired.to);
      await nextDatagram(expired.client);
    }
    expect(calls).toBe(2);

    calls = 0;
    const small = await setUp(() => String(++calls), { dedupMaxEntries: 1 });
    for (const id of [1, 2, 1]) {
      await small.client.send(encodeRequestFrame({ kind: "request", id }, "a"), small.to);
      await nextDatagram(small.client);
    }
    expect(calls).toBe(3);
  });

  it("stops reading the socket when closed", async () => {
    const handled: Datagram[] = [];
    const { socket, server, client, to } = await setUp((request) => {
      handled.push(request);
      return "";
    });
    server.close();
    await client.send(encodeRequestFrame({ kind: "request", id: 1 }), to);
    // The datagram waits in the socket for another reader; the server did not take it.
    expect((await nextDatagram(socket)).from).toEqual(client.local);
    expect(handled).toEqual([]);
  });
});

describe("request server arguments", () => {
  const open = useSockets();

  it("names a bad option and its value", async () => {
    const socket = await open("udp://127.0.0.1:0");
    expect(() => serveRequests(socket, "echo" as never)).toThrow(TypeError);
    expect(() => serveRequests(socket, () => "", { maxAmplification: -1 })).toThrow(
      new RangeError("maxAmplification must be a number from 0 to Infinity, got -1"),
    );
    expect(() => serveRequests(socket, () => "", { maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => serveRequests(socket, () => "", { dedupMaxEntries: 1.5 })).toThrow(
      /dedupMaxEntries/,
    );
  });
});
