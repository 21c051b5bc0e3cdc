import { formatAddress, isSocketError, type SocketError } from "@socket-lab/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createRequester,
  DEFAULT_REQUEST_BACKOFF,
  DEFAULT_REQUEST_RETRIES,
  decodeRequestFrame,
  encodeRequestFrame,
  type RequestFrame,
  serveRequests,
  type UdpSocket,
} from "../src/index.js";
import { closedPort, FAMILIES, nextDatagram, useSockets, WAIT_MS } from "./_families.js";

/** Rejection of `promise`, which must reject. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

/**
 * A hand-written server: reads requests and answers the n-th one (from 1) with `copies(n)`
 * replies `re:<payload>` under `replyId(id)`. Returns the requests it saw.
 */
function scriptedServer(
  server: UdpSocket,
  copies: (n: number) => number,
  replyId = (id: number) => id,
): RequestFrame[] {
  const seen: RequestFrame[] = [];
  void (async () => {
    for await (const { data, from } of server) {
      const frame = decodeRequestFrame(data);
      seen.push(frame);
      const reply = encodeRequestFrame(
        { kind: "reply", id: replyId(frame.id) },
        `re:${frame.payload}`,
      );
      for (let i = 0; i < copies(seen.length); i++) await server.send(reply, from);
    }
  })();
  return seen;
}

describe.each(FAMILIES)("requester over $name", (family) => {
  const open = useSockets();

  it("sends a request and resolves with the reply and its sender", async () => {
    const server = await open(family.anyPort);
    serveRequests(server, (request) => request.data);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const reply = await requester.request("ping");
    expect(reply.data.toString()).toBe("ping");
    expect(reply.from).toEqual(server.local);
    expect(requester.stats).toMatchObject({ requests: 1, tries: 1, replies: 1, timeouts: 0 });
  });

  it("retries when the server drops the first k requests, and the retry succeeds", async () => {
    const server = await open(family.anyPort);
    const k = 2;
    const seen = scriptedServer(server, (n) => (n <= k ? 0 : 1));
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const reply = await requester.request("hello", {
      backoff: { initialMs: 250, factor: 1 },
      retries: 3,
    });
    expect(reply.data.toString()).toBe("re:hello");
    expect(requester.stats).toMatchObject({ requests: 1, tries: k + 1, replies: 1 });
    // Every try is the same request: same id, same payload.
    expect(seen).toHaveLength(k + 1);
    expect(new Set(seen.map((frame) => frame.id)).size).toBe(1);
  });

  it("fails with ERR_TIMEOUT saying how many tries when nobody answers", async () => {
    const server = await open(family.anyPort);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const error = await rejectionOf(
      requester.request("anyone?", { backoff: { initialMs: 20, factor: 2 }, retries: 3 }),
    );
    expect(isSocketError(error, "ERR_TIMEOUT")).toBe(true);
    const where = formatAddress(server.local).replace(/[[\].]/g, "\\$&");
    expect((error as SocketError).message).toMatch(
      new RegExp(`^no reply from ${where} after 4 tries over [\\d.]+ m?s$`),
    );
    expect((error as SocketError).port).toBe(server.local.port);
    expect((error as SocketError).hint).toMatch(/never told 'refused'/);
    expect(requester.stats).toMatchObject({ requests: 1, tries: 4, replies: 0, timeouts: 1 });
    await vi.waitFor(() => expect(server.stats.datagramsReceived).toBe(4), { timeout: WAIT_MS });
  });

  it("ignores and counts a duplicate reply", async () => {
    const server = await open(family.anyPort);
    scriptedServer(server, () => 2);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    expect((await requester.request("twice")).data.toString()).toBe("re:twice");
    await vi.waitFor(() => expect(requester.stats.duplicateReplies).toBe(1), { timeout: WAIT_MS });
    expect(requester.stats).toMatchObject({ replies: 1, lateReplies: 0, unmatchedReplies: 0 });
    expect((await requester.request("again")).data.toString()).toBe("re:again");
  });

  it("ignores and counts a reply that comes after the request timed out", async () => {
    const server = await open(family.anyPort);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const pending = rejectionOf(
      requester.request("slow", { backoff: { initialMs: 30 }, retries: 0 }),
    );
    const request = await nextDatagram(server);
    const error = await pending;
    expect((error as SocketError).message).toMatch(/after 1 try over/);
    const { id } = decodeRequestFrame(request.data);
    await server.send(encodeRequestFrame({ kind: "reply", id }, "too late"), request.from);
    await vi.waitFor(() => expect(requester.stats.lateReplies).toBe(1), { timeout: WAIT_MS });
  });

  it("ignores and counts replies with an unknown id and datagrams not in the format", async () => {
    const server = await open(family.anyPort);
    scriptedServer(
      server,
      () => 1,
      (id) => (id + 1) >>> 0,
    );
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const pending = rejectionOf(
      requester.request("x", { backoff: { initialMs: 2_000 }, retries: 0 }),
    );
    await vi.waitFor(() => expect(requester.stats.unmatchedReplies).toBe(1), { timeout: WAIT_MS });
    await server.send("not a reply", formatAddress(client.local));
    await server.send(encodeRequestFrame({ kind: "request", id: 1 }), formatAddress(client.local));
    await vi.waitFor(() => expect(requester.stats.invalid).toBe(2), { timeout: WAIT_MS });
    requester.close();
    expect(isSocketError(await pending, "ERR_SOCKET_CLOSED")).toBe(true);
  });

  it("takes a reply only from the address the request went to", async () => {
    const server = await open(family.anyPort);
    const stranger = await open(family.anyPort);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const pending = requester.request("who?", { backoff: { initialMs: WAIT_MS }, retries: 0 });
    const request = await nextDatagram(server);
    const { id } = decodeRequestFrame(request.data);
    await stranger.send(encodeRequestFrame({ kind: "reply", id }, "forged"), request.from);
    await vi.waitFor(() => expect(requester.stats.unmatchedReplies).toBe(1), { timeout: WAIT_MS });
    await server.send(encodeRequestFrame({ kind: "reply", id }, "real"), request.from);
    expect((await pending).data.toString()).toBe("real");
  });

  it("matches concurrent requests to their own replies by id", async () => {
    const server = await open(family.anyPort);
    serveRequests(server, (request) => request.data.toString().toUpperCase());
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const words = Array.from({ length: 20 }, (_, i) => `word-${i}`);
    const replies = await Promise.all(words.map((word) => requester.request(word)));
    expect(replies.map((reply) => reply.data.toString())).toEqual(
      words.map((word) => word.toUpperCase()),
    );
    expect(requester.stats).toMatchObject({ requests: 20, replies: 20, duplicateReplies: 0 });
  });

  it("on a connected socket to a closed port rejects with ECONNREFUSED, not a timeout", async () => {
    const port = await closedPort(family);
    const where = formatAddress({ transport: "udp", host: family.host, port });
    const client = await open(family.anyPort, { connect: where });
    const requester = createRequester(client);
    const error = await rejectionOf(
      requester.request("hello?", { backoff: { initialMs: WAIT_MS } }),
    );
    expect(isSocketError(error, "ECONNREFUSED")).toBe(true);
    expect((error as SocketError).message).toBe(
      `connection refused by ${where} — no server is listening there`,
    );
    expect(requester.stats).toMatchObject({ tries: 1, timeouts: 0 });
  });

  it("sends up to the largest payload the header leaves room for, and refuses one byte more", async () => {
    const server = await open(family.anyPort, { recvBufferSize: 1 << 20 });
    serveRequests(server, (request) => request.data);
    const client = await open(family.anyPort, { recvBufferSize: 1 << 20 });
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const largest = family.max - 8;
    expect((await requester.request(Buffer.alloc(largest, 7))).data.length).toBe(largest);
    const error = await rejectionOf(requester.request(Buffer.alloc(largest + 1)));
    expect(isSocketError(error, "ERR_DATAGRAM_TOO_LARGE")).toBe(true);
  });

  it("rejects with the signal's reason when it fires, before or during the request", async () => {
    const server = await open(family.anyPort);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const error = await rejectionOf(requester.request("x", { signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ name: "AbortError" }); // the DOMException abort() makes
    expect(requester.stats.requests).toBe(0);

    const controller = new AbortController();
    const pending = rejectionOf(requester.request("y", { signal: controller.signal }));
    await nextDatagram(server);
    const reason = new Error("user gave up");
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(requester.stats.tries).toBe(1);
    // @ts-expect-error: not a signal
    await expect(requester.request("z", { signal: true })).rejects.toThrow(
      /"signal" option must be an instance of AbortSignal/,
    );
  });

  it("rejects pending and later requests with ERR_SOCKET_CLOSED once closed", async () => {
    const server = await open(family.anyPort);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const pending = rejectionOf(requester.request("x"));
    await nextDatagram(server);
    requester.close();
    expect(isSocketError(await pending, "ERR_SOCKET_CLOSED")).toBe(true);
    expect(isSocketError(await rejectionOf(requester.request("y")), "ERR_SOCKET_CLOSED")).toBe(
      true,
    );
    // The socket stays open and readable by others.
    await server.send("still here", formatAddress(client.local));
    expect((await nextDatagram(client)).data.toString()).toBe("still here");
  });

  it("closes with await using: close() resolves once it stopped reading, pending requests rejected", async () => {
    const server = await open(family.anyPort);
    const client = await open(family.anyPort);
    let pending: Promise<unknown> = Promise.resolve();
    {
      await using requester = createRequester(client, { to: formatAddress(server.local) });
      pending = rejectionOf(requester.request("x"));
      await nextDatagram(server);
    }
    expect(isSocketError(await pending, "ERR_SOCKET_CLOSED")).toBe(true);
    // It no longer reads the socket: a datagram to the client is the client's to read.
    await server.send("for the socket", formatAddress(client.local));
    expect((await nextDatagram(client)).data.toString()).toBe("for the socket");
  });

  it("close() returns the same settled promise when called again", async () => {
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(client.local) });
    const first = requester.close();
    expect(first).toBeInstanceOf(Promise);
    await first;
    await expect(requester.close()).resolves.toBeUndefined();
  });

  it("stats is a snapshot: read once, it does not change; writing to it changes nothing", async () => {
    const server = await open(family.anyPort);
    serveRequests(server, (request) => request.data);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const before = requester.stats;
    await requester.request("ping");
    expect(before.requests).toBe(0);
    expect(requester.stats.requests).toBe(1);
    (requester.stats as { requests: number }).requests = 99;
    expect(requester.stats.requests).toBe(1);
  });

  it("closes when its socket closes", async () => {
    const server = await open(family.anyPort);
    const client = await open(family.anyPort);
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const pending = rejectionOf(requester.request("x"));
    await nextDatagram(server);
    await client.close();
    expect(isSocketError(await pending, "ERR_SOCKET_CLOSED")).toBe(true);
  });
});

describe("requester arguments and defaults", () => {
  const open = useSockets();
  afterEach(() => {
    vi.useRealTimers();
  });

  it("says how many tries over how long, in seconds: 4 tries over 7.5 s", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const server = await open("udp://127.0.0.1:0");
    const client = await open("udp://127.0.0.1:0");
    const to = formatAddress(server.local);
    const requester = createRequester(client, { to, backoff: { initialMs: 500 } });
    const pending = rejectionOf(requester.request("ping"));
    // Waits of 500, 1,000, 2,000 and 4,000 ms: the default backoff doubles each one.
    await vi.advanceTimersByTimeAsync(7_500);
    const error = await pending;
    expect((error as SocketError).message).toBe(`no reply from ${to} after 4 tries over 7.5 s`);
    expect(requester.stats.tries).toBe(DEFAULT_REQUEST_RETRIES + 1);
  });

  it("caps each try's wait at backoff.maxMs", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const server = await open("udp://127.0.0.1:0");
    const client = await open("udp://127.0.0.1:0");
    const requester = createRequester(client, { to: formatAddress(server.local) });
    const pending = rejectionOf(
      requester.request("ping", { retries: 2, backoff: { maxMs: 1_500 } }),
    );
    // 1,000 then 1,500 (capped from 2,000) then 1,500 (capped from 4,000).
    await vi.advanceTimersByTimeAsync(3_999);
    expect(requester.stats.timeouts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(((await pending) as SocketError).message).toMatch(/after 3 tries over 4\.0 s$/);
    expect(DEFAULT_REQUEST_BACKOFF).toEqual({ initialMs: 1_000, factor: 2, maxMs: 10_000 });
  });

  it("needs a destination on an unconnected socket and refuses one on a connected socket", async () => {
    const peer = await open("udp://127.0.0.1:0");
    const unconnected = await open("udp://127.0.0.1:0");
    await expect(createRequester(unconnected).request("x")).rejects.toThrow(
      /^The "to" option must be an endpoint on an unconnected socket/,
    );
    const connected = await open("udp://127.0.0.1:0", { connect: formatAddress(peer.local) });
    await expect(
      createRequester(connected).request("x", { to: formatAddress(peer.local) }),
    ).rejects.toThrow(TypeError);
  });

  it("names a bad option and its value", async () => {
    const socket = await open("udp://127.0.0.1:0");
    expect(() => createRequester(socket, { retries: -1 })).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "retries" is out of range. It must be an integer >= 0 && <= 1000. Received -1',
      }),
    );
    expect(() => createRequester(socket, { backoff: { initialMs: 0 } })).toThrow(
      /"backoff.initialMs".* Received 0$/,
    );
    expect(() => createRequester(socket, { backoff: { factor: 0.5 } })).toThrow(
      /"backoff.factor".* Received 0.5$/,
    );
    // @ts-expect-error: a number was the 0.1 shape
    expect(() => createRequester(socket, { backoff: 2 })).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_TYPE",
        message: `The "backoff" option must be of type object ({ initialMs, factor, maxMs }). Received type number (2)`,
      }),
    );
    expect(() => createRequester(socket, { to: "tcp://127.0.0.1:1" })).toThrow(/udp:\/\//);
    const requester = createRequester(socket, { to: "127.0.0.1:9" });
    await expect(requester.request("x", { backoff: { maxMs: 2 ** 31 } })).rejects.toThrow(
      RangeError,
    );
  });
});
