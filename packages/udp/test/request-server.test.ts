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
    const requester = createRequester(client, {
      to,
      backoff: { initialMs: 50, factor: 1 },
      retries: 50,
    });
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

  it("checks a cached reply against the retry that triggers it: a big request, then small ones with its id, get nothing back", async () => {
    const errors: unknown[] = [];
    const { server, client, to } = await setUp((request) => request.data, {
      maxAmplification: 1,
      onError: (error) => errors.push(error),
    });
    // An echo of the largest request is exactly its size: allowed, sent, cached.
    const big = encodeRequestFrame({ kind: "request", id: 7 }, Buffer.alloc(family.max - 8, 1));
    await client.send(big, to);
    expect((await nextDatagram(client)).data.length).toBe(family.max);
    // The same id in an 8-byte datagram (a header alone): the cached reply would be 8,188×.
    const small = encodeRequestFrame({ kind: "request", id: 7 });
    for (let i = 0; i < 5; i++) await client.send(small, to);
    await client.send(encodeRequestFrame({ kind: "request", id: 8 }, "next"), to);
    // The first datagram back answers request 8: no cached reply went out for the small ones.
    expect(decodeRequestFrame((await nextDatagram(client)).data).id).toBe(8);
    await vi.waitFor(() => expect(server.stats.replies).toBe(2), { timeout: WAIT_MS });
    expect(server.stats).toMatchObject({ handled: 2, duplicates: 5, refused: 5, replies: 2 });
    expect(errors).toHaveLength(5);
    expect(errors[0]).toMatchObject({
      code: "ERR_DATAGRAM_TOO_LARGE",
      message: expect.stringMatching(
        new RegExp(
          `^reply of ${family.max} bytes to a 8-byte request from .* exceeds maxAmplification 1 \\(at most 8 bytes\\); not sent$`,
        ),
      ),
    });
    // A retry as large as the first try still gets its cached reply.
    await client.send(big, to);
    expect((await nextDatagram(client)).data.length).toBe(family.max);
  });

  it("holds 'at most once' while fewer than dedupMaxEntries (1,024) requests came after; the next one evicts it, counted", async () => {
    const calls = new Map<string, number>();
    const { server, client, to } = await setUp((request) => {
      const text = request.data.toString();
      calls.set(text, (calls.get(text) ?? 0) + 1);
      return text;
    });
    // No retries: on a busy machine a 200 ms timeout fired before the reply came, and each
    // spurious retry was one more duplicate. Loopback loses none of 64 datagrams in flight.
    const requester = createRequester(client, { to, backoff: { initialMs: WAIT_MS }, retries: 0 });
    const retried = encodeRequestFrame({ kind: "request", id: 0xabcd }, "once");
    const retry = async () => {
      await client.send(retried, to);
      await vi.waitFor(() => expect(server.stats.replies).toBe(sent + 1), { timeout: WAIT_MS });
      sent += 1;
    };
    let sent = 0;
    const others = async (count: number) => {
      // Other requests from anyone (here the same client, other ids) fill the cache.
      for (let i = 0; i < count; i += 64) {
        const batch = Array.from({ length: Math.min(64, count - i) }, (_, j) =>
          requester.request(`other ${sent + i + j}`),
        );
        await Promise.all(batch);
      }
      await vi.waitFor(() => expect(server.stats.replies).toBe(sent + count), { timeout: WAIT_MS });
      sent += count;
    };
    await retry();
    await others(1_023);
    await retry();
    expect(calls.get("once")).toBe(1);
    expect(server.stats).toMatchObject({ duplicates: 1, evicted: 0 });
    await others(1);
    expect(server.stats.evicted).toBe(1);
    await retry();
    // Forgotten inside its window: the documented limit, and the handler ran again.
    expect(calls.get("once")).toBe(2);
    expect(server.stats).toMatchObject({ duplicates: 1, handled: 1_026 });
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
      { onError: (error, request) => errors.push([error, request?.data.toString()]) },
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

  it("closes with await using: close() resolves once it stopped reading the socket", async () => {
    const handled: Datagram[] = [];
    const socket = await open(family.anyPort);
    const client = await open(family.anyPort);
    let closing: Promise<void> | undefined;
    {
      await using server = serveRequests(socket, (request) => {
        handled.push(request);
        return "";
      });
      closing = server.close();
      expect(closing).toBeInstanceOf(Promise);
    }
    await closing;
    await client.send(encodeRequestFrame({ kind: "request", id: 1 }), formatAddress(socket.local));
    expect((await nextDatagram(socket)).from).toEqual(client.local);
    expect(handled).toEqual([]);
  });

  it("stats is a snapshot: read once, it does not change", async () => {
    const { server, client, to } = await setUp(() => "");
    const before = server.stats;
    await client.send(encodeRequestFrame({ kind: "request", id: 7 }), to);
    await vi.waitFor(() => expect(server.stats.requests).toBe(1), { timeout: WAIT_MS });
    expect(before.requests).toBe(0);
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
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "maxAmplification" is out of range. It must be a number >= 0. Received -1',
      }),
    );
    expect(() => serveRequests(socket, () => "", { maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => serveRequests(socket, () => "", { dedupMaxEntries: 1.5 })).toThrow(
      /dedupMaxEntries/,
    );
  });
});
