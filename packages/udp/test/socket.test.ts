import {
  Domain,
  formatAddress,
  isSocketError,
  SocketError,
  type TraceEvent,
  UDP_SAFE_PAYLOAD_IPV4,
} from "@socket-lab/core";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { bind, DEFAULT_RECEIVE_QUEUE_SIZE } from "../src/index.js";
import {
  closedPort,
  FAMILIES,
  nextDatagram,
  nextError,
  pattern,
  useSockets,
  WAIT_MS,
} from "./_families.js";

/** Rejection of `promise`, which must reject. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe.each(FAMILIES)("UDP socket over $name", (family) => {
  const open = useSockets();

  it("binds port 0 and reports the real port, as udp4/udp6 by the host", async () => {
    const events: TraceEvent[] = [];
    const socket = await open(family.anyPort, { trace: (event) => events.push(event) });
    expect(socket.local.transport).toBe("udp");
    expect(socket.local.host).toBe(family.host);
    expect(socket.local.port).toBeGreaterThan(0);
    expect(socket.remote).toBeUndefined();
    expect(socket.maxPayloadBytes).toBe(family.max);
    const created = events[0];
    expect(created?.type).toBe("socket");
    if (created?.type === "socket") {
      expect(created.attributes.domain).toBe(
        family.name === "IPv4" ? Domain.AF_INET : Domain.AF_INET6,
      );
    }
  });

  it("keeps boundaries: every sampled size from 0 to the maximum arrives as one whole datagram", async () => {
    // Large datagrams need room in the kernel's receive buffer; 1 MiB holds any one of them.
    const receiver = await open(family.anyPort, { recvBufferSize: 1 << 20 });
    const sender = await open(family.anyPort, { sendBufferSize: 1 << 20 });
    const edges = [0, 1, 2, 1_231, 1_232, 1_233, 1_471, 1_472, 1_473, 1_500, 9_000];
    const top = [
      65_506,
      65_507,
      ...(family.max > 65_507 ? [65_508, family.max - 1, family.max] : []),
    ];
    const sampled = fc.sample(fc.integer({ min: 0, max: family.max }), { numRuns: 40, seed: 4 });
    const sizes = [...edges, ...sampled, ...top];
    const to = formatAddress(receiver.local);
    for (const size of sizes) {
      const payload = pattern(size);
      await sender.send(payload, to);
      const datagram = await nextDatagram(receiver);
      expect(datagram.data.length).toBe(size);
      expect(datagram.data.equals(payload)).toBe(true);
      expect(datagram.from).toEqual(sender.local);
    }
    // One send is one message: nothing split, nothing merged.
    expect(receiver.stats.datagramsReceived).toBe(sizes.length);
    expect(sender.stats.datagramsSent).toBe(sizes.length);
    expect(receiver.stats.bytesReceived).toBe(sizes.reduce((sum, size) => sum + size, 0));
  });

  it("rejects a payload over the protocol maximum with ERR_DATAGRAM_TOO_LARGE before the OS sees it", async () => {
    const events: TraceEvent[] = [];
    const receiver = await open(family.anyPort);
    const sender = await open(family.anyPort, { trace: (event) => events.push(event) });
    const to = formatAddress(receiver.local);
    for (const size of [family.max + 1, 65_536, 100_000]) {
      const error = await rejectionOf(sender.send(Buffer.alloc(size), to));
      expect(isSocketError(error, "ERR_DATAGRAM_TOO_LARGE")).toBe(true);
      expect((error as SocketError).message).toContain(family.max.toLocaleString("en-US"));
      expect((error as SocketError).hint).toMatch(/avoid IP fragmentation/);
    }
    // A string counts in UTF-8 bytes: "é" is 2 bytes.
    const text = "é".repeat(Math.floor(family.max / 2) + 1);
    expect(isSocketError(await rejectionOf(sender.send(text, to)), "ERR_DATAGRAM_TOO_LARGE")).toBe(
      true,
    );
    expect(events.some((event) => event.type === "send")).toBe(false);
    expect(sender.stats.datagramsSent).toBe(0);
    await sender.send("after", to);
    expect((await nextDatagram(receiver)).data.toString()).toBe("after");
  });

  it("applies a maxPayloadBytes policy to sends and drops (and counts) larger received datagrams", async () => {
    const receiver = await open(family.anyPort, { maxPayloadBytes: family.safe });
    const sender = await open(family.anyPort);
    const to = formatAddress(receiver.local);
    const error = await rejectionOf(receiver.send(Buffer.alloc(family.safe + 1), to));
    expect(isSocketError(error, "ERR_DATAGRAM_TOO_LARGE")).toBe(true);
    expect((error as SocketError).message).toContain("maxPayloadBytes");

    await sender.send(pattern(family.safe + 1), to);
    await sender.send(pattern(family.safe), to);
    const datagram = await nextDatagram(receiver);
    expect(datagram.data.equals(pattern(family.safe))).toBe(true);
    expect(receiver.stats.droppedOversize).toBe(1);
    expect(receiver.stats.datagramsReceived).toBe(2);
  });

  it("drops the newest datagrams when the reader is slow and the queue is full, and counts them", async () => {
    const receiver = await open(family.anyPort, { receiveQueueSize: 4 });
    const sender = await open(family.anyPort);
    const to = formatAddress(receiver.local);
    for (let i = 0; i < 10; i++) await sender.send(String(i), to);
    await vi.waitFor(() => expect(receiver.stats.datagramsReceived).toBe(10), { timeout: WAIT_MS });
    expect(receiver.stats.droppedQueueFull).toBe(6);
    const kept: string[] = [];
    for (let i = 0; i < 4; i++) kept.push((await nextDatagram(receiver)).data.toString());
    expect(kept).toEqual(["0", "1", "2", "3"]);
    await sender.send("again", to);
    expect((await nextDatagram(receiver)).data.toString()).toBe("again");
    expect(DEFAULT_RECEIVE_QUEUE_SIZE).toBe(1_024);
  });

  it("in connected mode sends without 'to' and receives only from the peer", async () => {
    const peer = await open(family.anyPort);
    const stranger = await open(family.anyPort);
    const socket = await open(family.anyPort, { connect: formatAddress(peer.local) });
    expect(socket.remote).toEqual(peer.local);
    await socket.send("hello");
    const hello = await nextDatagram(peer);
    expect(hello.data.toString()).toBe("hello");
    expect(hello.from).toEqual(socket.local);

    await stranger.send("stranger", formatAddress(socket.local));
    await peer.send("peer", formatAddress(socket.local));
    const datagram = await nextDatagram(socket);
    expect(datagram.data.toString()).toBe("peer");
    expect(datagram.from).toEqual(peer.local);
    expect(socket.stats.datagramsReceived).toBe(1);

    await expect(socket.send("x", formatAddress(peer.local))).rejects.toThrow(TypeError);
    await expect(peer.send("x")).rejects.toThrow(
      /^The "to" argument must be an endpoint on an unconnected socket/,
    );
  });

  it("in connected mode reports a closed peer port as ECONNREFUSED with a hint to onError(), and iteration goes on", async () => {
    const port = await closedPort(family);
    const where = formatAddress({ transport: "udp", host: family.host, port });
    const socket = await open(family.anyPort, { connect: `udp://${where}` });
    const received: string[] = [];
    // One for-await over the whole test: an ICMP error must not end it.
    const reading = (async () => {
      for await (const { data } of socket) received.push(data.toString());
    })();
    const reported = nextError(socket);
    await socket.send("anyone there?");
    const error = await reported;
    expect(socket.stats.errors).toBe(1);
    expect(error).toBeInstanceOf(SocketError);
    expect((error as SocketError).code).toBe("ECONNREFUSED");
    expect((error as SocketError).message).toBe(
      `connection refused by ${where} — no server is listening there`,
    );
    expect((error as SocketError).hint).toMatch(/ICMP port unreachable/);

    // The error was reported; the same loop still reads when a server appears there.
    const server = await open(`udp://${where}`);
    await socket.send("now?");
    expect((await nextDatagram(server)).data.toString()).toBe("now?");
    await server.send("yes", formatAddress(socket.local));
    await vi.waitFor(() => expect(received).toEqual(["yes"]), { timeout: WAIT_MS });
    await socket.close();
    await reading;
  });

  it("receive() takes the next datagram, or rejects ERR_TIMEOUT and gives up its place in line", async () => {
    const socket = await open(family.anyPort);
    const peer = await open(family.anyPort);
    const error = await rejectionOf(socket.receive({ timeoutMs: 1 }));
    expect(isSocketError(error, "ERR_TIMEOUT")).toBe(true);
    expect((error as SocketError).message).toBe(
      `no datagram arrived at ${formatAddress(socket.local)} within 1 ms`,
    );
    // The timed-out read took nothing: the next datagram goes to the next receive().
    await peer.send("first", formatAddress(socket.local));
    await peer.send("second", formatAddress(socket.local));
    expect((await socket.receive({ timeoutMs: WAIT_MS })).data.toString()).toBe("first");
    // Already queued: even a 0 ms limit takes it.
    await vi.waitFor(() => expect(socket.stats.datagramsReceived).toBe(2), { timeout: WAIT_MS });
    const second = await socket.receive({ timeoutMs: 0 });
    expect(second.data.toString()).toBe("second");
    expect(second.from).toEqual(peer.local);
    expect(isSocketError(await rejectionOf(socket.receive({ timeoutMs: 0 })), "ERR_TIMEOUT")).toBe(
      true,
    );
  });

  it("receive() stops on abort and on close, and names a bad timeoutMs", async () => {
    const socket = await open(family.anyPort);
    const controller = new AbortController();
    const waiting = rejectionOf(socket.receive({ signal: controller.signal }));
    controller.abort(new Error("enough"));
    expect(await waiting).toEqual(new Error("enough"));
    await expect(socket.receive({ signal: AbortSignal.abort() })).rejects.toThrow(/aborted/);
    // A signal aborted with null: Node's AbortError, as from every package.
    const none = new AbortController();
    const unexplained = rejectionOf(socket.receive({ signal: none.signal }));
    none.abort(null);
    expect(await unexplained).toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
    await expect(socket.receive({ signal: AbortSignal.abort(null) })).rejects.toMatchObject({
      code: "ABORT_ERR",
    });
    // @ts-expect-error: not a signal
    await expect(socket.receive({ signal: "stop" })).rejects.toThrow(
      /"options.signal" property must be an instance of AbortSignal/,
    );
    await expect(socket.receive({ timeoutMs: -1 })).rejects.toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "timeoutMs" is out of range. It must be a number >= 0 && <= 2147483647. Received -1',
      }),
    );
    const closing = rejectionOf(socket.receive());
    await socket.close();
    expect(isSocketError(await closing, "ERR_SOCKET_CLOSED")).toBe(true);
    expect(isSocketError(await rejectionOf(socket.receive()), "ERR_SOCKET_CLOSED")).toBe(true);
  });

  it("sets the kernel buffer sizes after bind and reports what was granted", async () => {
    const small = await open(family.anyPort, { recvBufferSize: 16_384, sendBufferSize: 16_384 });
    const large = await open(family.anyPort, { recvBufferSize: 65_536, sendBufferSize: 65_536 });
    expect(small.recvBufferSize).toBeGreaterThanOrEqual(16_384);
    expect(small.sendBufferSize).toBeGreaterThanOrEqual(16_384);
    expect(large.recvBufferSize).toBeGreaterThan(small.recvBufferSize);
    expect(large.sendBufferSize).toBeGreaterThan(small.sendBufferSize);
  });

  it("emits the trace at every step: socket, bind, connect, send, recv, close", async () => {
    const events: TraceEvent[] = [];
    const trace = (event: TraceEvent) => events.push(event);
    const peer = await open(family.anyPort, { trace });
    const client = await open(family.anyPort, { trace, connect: formatAddress(peer.local) });
    await client.send("ping");
    await nextDatagram(peer);
    await peer.send("pong!", formatAddress(client.local));
    await nextDatagram(client);
    await client.close();
    await peer.close();
    // Each socket has its own descriptor, the same on every call it makes.
    const fd = events[0]?.fd;
    const clientFd = events[2]?.fd;
    expect(fd).toBeGreaterThan(2);
    expect(clientFd).toBeGreaterThan(2);
    expect(clientFd).not.toBe(fd);
    expect(events).toEqual([
      { type: "socket", attributes: expect.objectContaining({ type: 2, protocol: 17 }), fd },
      { type: "bind", local: peer.local, fd },
      {
        type: "socket",
        attributes: expect.objectContaining({ type: 2, protocol: 17 }),
        fd: clientFd,
      },
      { type: "bind", local: client.local, fd: clientFd },
      { type: "connect", remote: peer.local, fd: clientFd },
      { type: "send", bytes: 4, fd: clientFd },
      { type: "recv", bytes: 4, from: client.local, fd },
      { type: "send", bytes: 5, to: client.local, fd },
      { type: "recv", bytes: 5, from: peer.local, fd: clientFd },
      { type: "close", remote: peer.local, fd: clientFd },
      { type: "close", fd },
    ]);
  });

  it("ends iteration on close, then refuses sends with ERR_SOCKET_CLOSED", async () => {
    const socket = await bind(family.anyPort);
    const received: unknown[] = [];
    const reading = (async () => {
      for await (const datagram of socket) received.push(datagram);
    })();
    const closing = socket.close();
    expect(socket.close()).toBe(closing);
    await closing;
    await reading;
    expect(received).toEqual([]);
    const error = await rejectionOf(socket.send("late", formatAddress(socket.local)));
    expect(isSocketError(error, "ERR_SOCKET_CLOSED")).toBe(true);
  });

  it("is closed by await using", async () => {
    let local = "";
    {
      await using socket = await bind(family.anyPort);
      local = formatAddress(socket.local);
    }
    // The port is free again: binding it works.
    const again = await open(`udp://${local}`);
    expect(formatAddress(again.local)).toBe(local);
  });

  it("explains a bind to a port in use (EADDRINUSE)", async () => {
    const first = await open(family.anyPort);
    const error = await rejectionOf(bind(`udp://${formatAddress(first.local)}`));
    expect(isSocketError(error, "EADDRINUSE")).toBe(true);
    expect((error as SocketError).message).toContain(String(first.local.port));
    expect((error as SocketError).hint).toMatch(/port 0/);
  });
});

describe("UDP socket arguments", () => {
  const open = useSockets();

  it("refuses endpoints that are not udp://", async () => {
    for (const endpoint of ["tcp://127.0.0.1:0", "unix:///tmp/x.sock", "udp://127.0.0.1:99999"]) {
      const error = await rejectionOf(bind(endpoint));
      expect(isSocketError(error, "ERR_INVALID_ENDPOINT")).toBe(true);
    }
    const socket = await open("127.0.0.1:0");
    expect(socket.local.transport).toBe("udp");
    await expect(socket.send("x", "tcp://127.0.0.1:9")).rejects.toThrow(/udp:\/\//);
  });

  it("binds a host name to the family it resolves to", async () => {
    const socket = await open("udp://localhost:0");
    expect(["127.0.0.1", "::1"]).toContain(socket.local.host);
    expect(socket.maxPayloadBytes).toBe(socket.local.host === "::1" ? 65_527 : 65_507);
  });

  it("refuses to connect across address families", async () => {
    const error = await rejectionOf(bind("udp://127.0.0.1:0", { connect: "udp://[::1]:9" }));
    expect(isSocketError(error, "ERR_INVALID_ENDPOINT")).toBe(true);
    expect((error as SocketError).message).toMatch(/address families differ/);
  });

  it("names a bad option and its value", async () => {
    await expect(bind("udp://127.0.0.1:0", { maxPayloadBytes: 65_508 })).rejects.toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "maxPayloadBytes" is out of range. It must be an integer >= 0 && <= 65507. Received 65508',
      }),
    );
    await expect(bind("udp://127.0.0.1:0", { receiveQueueSize: -1 })).rejects.toThrow(
      /"receiveQueueSize".* Received -1$/,
    );
    await expect(bind("udp://127.0.0.1:0", { recvBufferSize: 0 })).rejects.toThrow(
      /"recvBufferSize".* Received 0$/,
    );
    await expect(
      bind("udp://127.0.0.1:0", { sendBufferSize: "big" as unknown as number }),
    ).rejects.toThrow(TypeError);
    // An option passed as undefined keeps its default.
    const socket = await open("udp://127.0.0.1:0", { receiveQueueSize: undefined });
    expect(socket.maxPayloadBytes).toBe(65_507);
    await expect(socket.send(42 as unknown as string, "127.0.0.1:9")).rejects.toThrow(TypeError);
  });

  it("accepts the safe-size constant as a policy", async () => {
    const socket = await open("udp://127.0.0.1:0", { maxPayloadBytes: UDP_SAFE_PAYLOAD_IPV4 });
    expect(socket.maxPayloadBytes).toBe(1_472);
  });
});
