import { formatAddress, isSocketError, SocketError } from "@socket-lab/core";
import { describe, expect, it, vi } from "vitest";
import { DEFAULT_MAX_PENDING_SENDS } from "../src/index.js";
import {
  closedPort,
  FAMILIES,
  nextDatagram,
  nextError,
  pattern,
  useSockets,
  WAIT_MS,
} from "./_families.js";

/** The error `run` throws, which it must. */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe.each(FAMILIES)("UDP write() over $name", (family) => {
  const open = useSockets();

  it("sends each datagram whole without a promise, and counts it once the OS has taken it", async () => {
    const receiver = await open(family.anyPort);
    const unconnected = await open(family.anyPort);
    const connected = await open(family.anyPort, { connect: formatAddress(receiver.local) });
    const sizes = [0, 1, 100, 1_024, family.safe];
    const to = formatAddress(receiver.local);
    for (const size of sizes) {
      expect(unconnected.write(pattern(size), to)).toBe(true);
      expect(connected.write(pattern(size))).toBe(true);
    }
    expect(connected.write("text")).toBe(true);
    // Counted pending until the OS has taken them; sent once it has.
    expect(unconnected.pendingSends).toBe(sizes.length);
    expect(connected.pendingSends).toBe(sizes.length + 1);
    expect(connected.stats.datagramsSent).toBe(0);

    const bySender = new Map<number, Buffer[]>();
    for (let i = 0; i < 2 * sizes.length + 1; i++) {
      const { data, from } = await nextDatagram(receiver);
      bySender.set(from.port, [...(bySender.get(from.port) ?? []), data]);
    }
    // Each sender's datagrams arrive whole and, on loopback, in order.
    expect(bySender.get(unconnected.local.port)).toEqual(sizes.map(pattern));
    expect(bySender.get(connected.local.port)).toEqual([
      ...sizes.map(pattern),
      Buffer.from("text"),
    ]);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    expect(unconnected.pendingSends).toBe(0);
    expect(unconnected.stats).toMatchObject({
      datagramsSent: sizes.length,
      bytesSent: total,
      sendsFailed: 0,
    });
    expect(connected.stats).toMatchObject({
      datagramsSent: sizes.length + 1,
      bytesSent: total + 4,
    });
  });

  it("returns false at maxPendingSends; drain() resolves once at most half are pending", async () => {
    const receiver = await open(family.anyPort);
    const sender = await open(family.anyPort, {
      connect: formatAddress(receiver.local),
      maxPendingSends: 4,
    });
    await expect(sender.drain()).resolves.toBeUndefined();
    expect([1, 2, 3, 4].map((i) => sender.write(String(i)))).toEqual([true, true, true, false]);
    expect(sender.pendingSends).toBe(4);
    let drained = false;
    const draining = sender.drain().then(() => {
      drained = true;
    });
    expect(sender.drain()).toBe(sender.drain());
    // send() counts too, and a send() over the limit is still sent.
    const sending = sender.send("5");
    expect(sender.pendingSends).toBe(5);
    expect(drained).toBe(false);
    await draining;
    expect(sender.pendingSends).toBeLessThanOrEqual(2);
    await sending;
    await vi.waitFor(() => expect(sender.pendingSends).toBe(0), { timeout: WAIT_MS });
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push((await nextDatagram(receiver)).data.toString());
    expect(got).toEqual(["1", "2", "3", "4", "5"]);
    expect(sender.stats.datagramsSent).toBe(5);
  });

  it("drain() resolves at once when at most half of maxPendingSends are pending", async () => {
    const receiver = await open(family.anyPort);
    const sender = await open(family.anyPort, {
      connect: formatAddress(receiver.local),
      maxPendingSends: 4,
    });
    // Sends complete in a later tick: until then they stay pending, whatever the microtasks do.
    const settlesNow = async () => {
      let settled = false;
      void sender.drain().then(() => {
        settled = true;
      });
      for (let i = 0; i < 5; i++) await null;
      return settled;
    };
    sender.write("1");
    sender.write("2");
    expect(sender.pendingSends).toBe(2);
    expect(await settlesNow()).toBe(true);
    sender.write("3");
    expect(sender.pendingSends).toBe(3);
    expect(await settlesNow()).toBe(false);
    await sender.drain();
  });

  it("by default returns false at the 256th pending send", async () => {
    const receiver = await open(family.anyPort, { receiveQueueSize: DEFAULT_MAX_PENDING_SENDS });
    const sender = await open(family.anyPort, { connect: formatAddress(receiver.local) });
    const fits: boolean[] = [];
    for (let i = 0; i < DEFAULT_MAX_PENDING_SENDS; i++) fits.push(sender.write("x"));
    expect(DEFAULT_MAX_PENDING_SENDS).toBe(256);
    expect(fits.indexOf(false)).toBe(DEFAULT_MAX_PENDING_SENDS - 1);
    await sender.drain();
    expect(sender.pendingSends).toBeLessThanOrEqual(128);
  });

  it("throws at once what send() rejects with at once, and counts nothing pending", async () => {
    const receiver = await open(family.anyPort, { maxPayloadBytes: family.safe });
    const connected = await open(family.anyPort, { connect: formatAddress(receiver.local) });
    const to = formatAddress(receiver.local);

    const tooLarge = thrownBy(() => receiver.write(Buffer.alloc(family.safe + 1), to));
    expect(isSocketError(tooLarge, "ERR_DATAGRAM_TOO_LARGE")).toBe(true);
    expect(thrownBy(() => receiver.write("x"))).toMatchObject({
      name: "TypeError",
      code: "ERR_INVALID_ARG_TYPE",
      message: 'The "to" argument must be an endpoint on an unconnected socket. Received undefined',
    });
    expect(thrownBy(() => connected.write("x", to))).toBeInstanceOf(TypeError);
    expect(thrownBy(() => receiver.write(42 as unknown as string, to))).toBeInstanceOf(TypeError);
    const badEndpoint = thrownBy(() => receiver.write("x", "tcp://127.0.0.1:9"));
    expect(isSocketError(badEndpoint, "ERR_INVALID_ENDPOINT")).toBe(true);
    const portZero = thrownBy(() => receiver.write("x", family.anyPort));
    expect(isSocketError(portZero, "ERR_INVALID_ENDPOINT")).toBe(true);
    expect((portZero as SocketError).message).toMatch(/port 0/);
    await expect(receiver.send("x", { ...receiver.local, port: 0 })).rejects.toThrow(/port 0/);
    expect(receiver.pendingSends).toBe(0);
    expect(connected.pendingSends).toBe(0);

    await connected.close();
    expect(
      isSocketError(
        thrownBy(() => connected.write("late")),
        "ERR_SOCKET_CLOSED",
      ),
    ).toBe(true);
    expect(receiver.stats.datagramsSent + connected.stats.datagramsSent).toBe(0);
  });

  it("rejects a waiting drain() with ERR_SOCKET_CLOSED when the socket closes", async () => {
    const receiver = await open(family.anyPort);
    const sender = await open(family.anyPort, {
      connect: formatAddress(receiver.local),
      maxPendingSends: 2,
    });
    sender.write("a");
    expect(sender.write("b")).toBe(false);
    const draining = sender.drain();
    await sender.close();
    const error = await draining.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isSocketError(error, "ERR_SOCKET_CLOSED")).toBe(true);
    expect((error as SocketError).message).toBe("cannot wait to send: the socket is closed");
  });

  it("reports a write() to a closed port as ECONNREFUSED to onError(), and goes on", async () => {
    const port = await closedPort(family);
    const where = formatAddress({ transport: "udp", host: family.host, port });
    const socket = await open(family.anyPort, { connect: `udp://${where}` });
    const errors: SocketError[] = [];
    socket.onError((error) => errors.push(error));
    socket.write("anyone there?");
    // The ICMP answer fails the socket's next system call: a read, or the next send. Either
    // way it is reported to onError().
    await vi.waitFor(
      () => {
        if (socket.stats.errors === 0) socket.write("again?");
        expect(errors.length).toBeGreaterThan(0);
      },
      { timeout: WAIT_MS, interval: 10 },
    );
    expect(isSocketError(errors[0], "ECONNREFUSED")).toBe(true);
    expect(errors[0]?.hint).toMatch(/ICMP port unreachable/);
    expect(socket.stats.errors).toBe(errors.length);
    const server = await open(`udp://${where}`);
    socket.write("now?");
    expect((await nextDatagram(server)).data.toString()).toBe("now?");
  });
});

describe("UDP write() failures the OS reports later", () => {
  const open = useSockets();

  it("counts a refused write() in sendsFailed and reports it to onError() once, naming the peer", async () => {
    // An IPv6 socket cannot send to an IPv4 address: sendto() fails with EINVAL.
    const socket = await open("udp://[::1]:0");
    const reported = nextError(socket);
    expect(socket.write("x", "udp://127.0.0.1:9")).toBe(true);
    const error = await reported;
    expect(error).toBeInstanceOf(SocketError);
    expect((error as SocketError).code).toBe("EINVAL");
    expect((error as SocketError).message).toContain("127.0.0.1:9");
    expect(socket.stats).toMatchObject({ sendsFailed: 1, datagramsSent: 0, errors: 1 });
    expect(socket.pendingSends).toBe(0);
    // Reported once: the socket goes on.
    const peer = await open("udp://[::1]:0");
    socket.write("y", formatAddress(peer.local));
    expect((await nextDatagram(peer)).data.toString()).toBe("y");
  });

  it("names a bad maxPendingSends", async () => {
    await expect(open("udp://127.0.0.1:0", { maxPendingSends: 0 })).rejects.toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "maxPendingSends" is out of range. It must be an integer >= 1 && <= 2147483647. Received 0',
      }),
    );
  });
});
