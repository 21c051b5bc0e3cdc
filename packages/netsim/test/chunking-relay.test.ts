import { mkdtemp, rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Endpoint, isSocketError, type TraceEvent } from "@socket-lab/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Chunking,
  type ChunkingRelayOptions,
  type RelayPieceEvent,
  startChunkingRelay,
} from "../src/index.js";
import { closed, connectTo, pattern, readAll, tcpServer, until } from "./_sockets.js";

const KiB = 1024;
const MiB = 1024 * KiB;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function server(onConnection: (socket: Socket) => void, listen?: { path: string }) {
  const s = await tcpServer(onConnection, listen);
  cleanup.push(s.close);
  return s;
}

async function relay(target: Endpoint, options: Omit<ChunkingRelayOptions, "target"> = {}) {
  const r = await startChunkingRelay({ target, ...options });
  cleanup.push(r.close);
  return r;
}

async function client(endpoint: Endpoint) {
  const socket = await connectTo(endpoint);
  cleanup.push(async () => socket.destroy());
  return socket;
}

/** A server that sends back everything it reads and ends when the client does. */
const echo = (socket: Socket) => socket.pipe(socket);

describe("startChunkingRelay", () => {
  it.each<[string, Chunking, number]>([
    // 1-byte writes cost a system call each: 32 KiB (65,536 writes, both ways) keeps the run
    // short on a busy 2-core machine.
    ["1-byte pieces", { mode: "bytes", size: 1 }, 32 * KiB],
    ["random pieces of 1..4096 bytes", { mode: "random", min: 1, max: 4096 }, 1 * MiB],
    ["8 KiB coalesced pieces", { mode: "coalesce", maxBytes: 8 * KiB, maxDelayMs: 2 }, 1 * MiB],
  ])("carries a stream byte-identical both ways in %s", async (_, chunking, size) => {
    const target = await server(echo);
    const r = await relay(target.endpoint, { chunking, seed: 9 });
    const socket = await client(r.endpoint);
    const data = pattern(size);
    const back = readAll(socket);
    socket.end(data);
    expect((await back).data.equals(data)).toBe(true);

    const { toServer, toClient, accepted } = r.stats;
    expect(accepted).toBe(1);
    for (const direction of [toServer, toClient]) {
      expect(direction.bytes).toBe(size);
      if (chunking.mode === "bytes") expect(direction.chunks).toBe(size);
      if (chunking.mode === "random") {
        expect(direction.chunks).toBeGreaterThanOrEqual(Math.ceil(size / 4096));
        // The mean piece is about 2 KiB: far more pieces than reads of up to 64 KiB.
        expect(direction.chunks).toBeGreaterThan(size / (3 * KiB));
      }
      if (chunking.mode === "coalesce") {
        // Whole 8 KiB pieces, plus at most one short piece per timer flush (one per read).
        expect(direction.chunks).toBeGreaterThanOrEqual(size / (8 * KiB));
        expect(direction.chunks).toBeLessThanOrEqual(size / (8 * KiB) + direction.reads);
      }
    }
    await until(() => r.stats.open === 0, "both sides to close");
  });

  it("paces pieces, so one write reaches the reader as several reads", async () => {
    const target = await server(echo);
    const r = await relay(target.endpoint, { chunking: { mode: "bytes", size: 4 }, paceMs: 1 });
    const socket = await client(r.endpoint);
    const back = readAll(socket);
    socket.end("Hello from client"); // one write of 17 bytes
    const { data, reads } = await back;
    expect(data.toString()).toBe("Hello from client");
    expect(reads).toBeGreaterThan(1);
    expect(r.stats.toServer).toMatchObject({ reads: 1, chunks: 5, bytes: 17 });
  });

  it("keeps a larger stream intact and in order when paced", async () => {
    const target = await server(echo);
    const chunking = { mode: "random", min: 1000, max: 3000 } as const;
    const r = await relay(target.endpoint, { chunking, paceMs: 1 });
    const socket = await client(r.endpoint);
    const data = pattern(64 * KiB);
    const back = readAll(socket);
    socket.end(data);
    expect((await back).data.equals(data)).toBe(true);
  });

  it("delays every piece without slowing the stream to one piece per delay", async () => {
    const target = await server(echo);
    const chunking = { mode: "random", min: 1, max: 64 } as const;
    const r = await relay(target.endpoint, { chunking, delayMs: 20 });
    const socket = await client(r.endpoint);
    const data = pattern(1 * MiB);
    const back = readAll(socket);
    socket.end(data);
    expect((await back).data.equals(data)).toBe(true);
    // ~32,000 pieces each way: paced one per 20 ms this would take over ten minutes.
    expect(r.stats.toServer.chunks).toBeGreaterThan(10_000);
  });

  it("reports every piece it writes, per direction and connection", async () => {
    const target = await server(echo);
    const pieces: RelayPieceEvent[] = [];
    const r = await relay(target.endpoint, {
      chunking: { mode: "random", min: 1, max: 5 },
      onPiece: (event) => pieces.push(event),
    });
    for (const text of ["Hello from client", "second"]) {
      const socket = await client(r.endpoint);
      const back = readAll(socket);
      socket.end(text);
      expect((await back).data.toString()).toBe(text);
    }
    const { toServer, toClient } = r.stats;
    const of = (direction: string, connection?: number) =>
      pieces.filter(
        (p) => p.direction === direction && (connection ?? p.connection) === p.connection,
      );
    expect(of("to-server")).toHaveLength(toServer.chunks);
    expect(of("to-client")).toHaveLength(toClient.chunks);
    expect(of("to-server", 0).reduce((sum, p) => sum + p.bytes, 0)).toBe(17);
    expect(of("to-client", 1).reduce((sum, p) => sum + p.bytes, 0)).toBe(6);
    expect(of("to-client", 0).length).toBeGreaterThan(1);
    expect(pieces.every((p) => p.bytes >= 1 && p.bytes <= 5)).toBe(true);
  });

  it("passes a half-close on: the server reads to the end, then still answers", async () => {
    const target = await server((socket) => {
      readAll(socket).then(({ data }) => socket.end(`got ${data.toString()}`));
    });
    const events: TraceEvent[] = [];
    const r = await relay(target.endpoint, { trace: (event) => events.push(event) });
    const socket = await client(r.endpoint);
    const reply = readAll(socket);
    socket.end("ping"); // FIN after "ping": the server sees 'end' only through the relay
    expect((await reply).data.toString()).toBe("got ping");
    expect(r.stats.toServer).toMatchObject({ bytes: 4, chunks: 4 });
    expect(r.stats.toClient).toMatchObject({ bytes: 8, chunks: 8 });
    await until(() => r.stats.open === 0, "both sides to close");
    const types = events.map((event) => event.type);
    expect(types.slice(0, 6)).toEqual(["socket", "bind", "listen", "accept", "socket", "connect"]);
    // accept(3) = 4 for the client, and a socket of its own (5) to the server.
    const [listening, , , accept, upstream] = events;
    expect(accept).toMatchObject({ fd: listening?.fd, newFd: expect.any(Number) });
    expect(upstream?.fd).toEqual(expect.any(Number));
    expect(
      new Set([listening?.fd, accept?.type === "accept" && accept.newFd, upstream?.fd]).size,
    ).toBe(3);
    expect(types.filter((type) => type === "shutdown")).toHaveLength(2);
    expect(types.at(-1)).toBe("close");
  });

  it("passes a reset from the client on to the server", async () => {
    let serverSide: Promise<NodeJS.ErrnoException | undefined> | undefined;
    let received = 0;
    const target = await server((socket) => {
      serverSide = closed(socket);
      socket.on("data", (chunk: Buffer) => {
        received += chunk.length;
      });
    });
    const r = await relay(target.endpoint, { chunking: { mode: "random", min: 1, max: 100 } });
    const socket = await client(r.endpoint);
    socket.write("some bytes first");
    await until(() => received === 16, "the first bytes");
    socket.resetAndDestroy();
    expect((await serverSide)?.code).toBe("ECONNRESET");
  });

  it("passes a reset from the server on to the client", async () => {
    const target = await server((socket) => {
      socket.once("data", () => socket.resetAndDestroy());
    });
    const r = await relay(target.endpoint);
    const socket = await client(r.endpoint);
    const clientSide = closed(socket);
    socket.write("x");
    expect((await clientSide)?.code).toBe("ECONNRESET");
  });

  it("resets the client when the target is not listening", async () => {
    const gone = await tcpServer(() => {});
    await gone.close();
    const r = await relay(gone.endpoint);
    const socket = await client(r.endpoint);
    expect((await closed(socket))?.code).toBe("ECONNRESET");
    expect(r.stats).toMatchObject({ accepted: 1, open: 0 });
  });

  it("pauses the client instead of buffering when the server reads slowly or not at all", async () => {
    let serverSocket: Socket | undefined;
    const target = await server((socket) => {
      socket.pause(); // read nothing at first: the kernel buffers fill, then the relay must stop
      serverSocket = socket;
    });
    const r = await relay(target.endpoint, { chunking: { mode: "random", min: 1000, max: 8000 } });
    const socket = await client(r.endpoint);
    const data = pattern(16 * MiB);
    socket.end(data); // the client side holds what the relay does not take

    await until(() => r.stats.toServer.pauses > 0, "the relay to pause the client");
    const paused = r.stats.toServer;
    expect(paused.bytes).toBeLessThan(data.length);
    expect(paused.peakBuffered).toBeLessThan(MiB);

    // Now a slow reader: one read per timer tick, while the client could send far faster. A
    // relay that read on regardless would pile up megabytes; this one stays bounded.
    const receiver = serverSocket as Socket;
    const all = readAll(receiver);
    receiver.on("data", () => {
      receiver.pause();
      setTimeout(() => receiver.resume(), 1);
    });
    receiver.resume();
    expect((await all).data.equals(data)).toBe(true);
    expect(r.stats.toServer.pauses).toBeGreaterThan(1);
    expect(r.stats.toServer.peakBuffered).toBeLessThan(MiB);
  });

  it("pauses the client while its pacing queue is full", async () => {
    const target = await server(echo);
    const r = await relay(target.endpoint, { chunking: { mode: "bytes", size: 1 }, paceMs: 1 });
    const socket = await client(r.endpoint);
    socket.write(pattern(4 * MiB)); // a byte per millisecond would take over an hour
    await until(() => r.stats.toServer.pauses > 0, "the relay to pause the client");
    const { toServer } = r.stats;
    expect(toServer.peakBuffered).toBeLessThan(MiB);
    expect(toServer.bytes).toBeLessThan(MiB);
  });

  it("closes open connections and drops held bytes when closed", async () => {
    let serverSide: Promise<{ data: Buffer }> | undefined;
    const target = await server((socket) => {
      serverSide = readAll(socket);
    });
    const r = await relay(target.endpoint, { delayMs: 60_000 });
    const socket = await client(r.endpoint);
    const clientSide = readAll(socket);
    socket.write("held for a minute");
    await until(() => r.stats.toServer.reads > 0 && serverSide !== undefined, "the relay to read");
    await r.close();
    await r.close(); // twice is fine
    // Both peers see the connection end; the delayed bytes never arrive.
    expect((await clientSide).data.length).toBe(0);
    expect((await serverSide)?.data.length).toBe(0);
    expect(r.stats).toMatchObject({ accepted: 1, open: 0 });
  });

  it("relays between unix sockets", async () => {
    const dir = await mkdtemp(join(tmpdir(), "netsim-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const target = await server(echo, { path: join(dir, "server.sock") });
    const r = await relay(target.endpoint, {
      listen: `unix://${join(dir, "relay.sock")}`,
      chunking: { mode: "random", min: 1, max: 7 },
    });
    expect(r.endpoint).toEqual({ transport: "unix", path: join(dir, "relay.sock") });
    const socket = await client(r.endpoint);
    const back = readAll(socket);
    socket.end("hello over AF_UNIX");
    expect((await back).data.toString()).toBe("hello over AF_UNIX");
  });

  it("rejects bad options naming the option and the value", async () => {
    const target = "tcp://127.0.0.1:9";
    await expect(
      startChunkingRelay({ target, chunking: { mode: "random", min: 10, max: 2 } }),
    ).rejects.toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "chunking.min" is out of range. It must be an integer <= chunking.max (2). Received 10',
      }),
    );
    await expect(startChunkingRelay({ target, delayMs: -1 })).rejects.toThrow(
      /^The value of "delayMs" is out of range\..* Received -1$/,
    );
    await expect(startChunkingRelay({ target, paceMs: 0.5 })).rejects.toThrow(
      /^The value of "paceMs" is out of range\..* Received 0\.5$/,
    );
    await expect(startChunkingRelay({ target, seed: 0.5 })).rejects.toThrow(
      /^The value of "seed" is out of range\..* Received 0\.5$/,
    );
    await expect(startChunkingRelay({} as { target: string })).rejects.toThrow(TypeError);
    // @ts-expect-error: onError is a function
    await expect(startChunkingRelay({ target, onError: 1 })).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "onError" option must be of type function. Received type number (1)`,
    });
    const udp = await startChunkingRelay({ target: "udp://127.0.0.1:9" }).catch((e: unknown) => e);
    expect(isSocketError(udp, "ERR_INVALID_ENDPOINT")).toBe(true);
    const first = await relay({ transport: "tcp", host: "127.0.0.1", port: 9 });
    const taken = await startChunkingRelay({ target, listen: first.endpoint }).catch((e) => e);
    expect(isSocketError(taken, "EADDRINUSE")).toBe(true);
  });
});

describe("stats", () => {
  it("is a read-only property: a snapshot of the counters, taken when read", async () => {
    const target = await server(echo);
    const r = await relay(target.endpoint, { chunking: { mode: "bytes", size: 1 }, seed: 1 });
    const before = r.stats;
    const socket = await client(r.endpoint);
    const back = readAll(socket);
    socket.end("hello");
    expect((await back).data.toString()).toBe("hello");
    expect(before).toMatchObject({ accepted: 0, toServer: { bytes: 0 } });
    expect(r.stats).toMatchObject({ accepted: 1, toServer: { bytes: 5 } });
    expect(Object.getOwnPropertyDescriptor(r, "stats")?.get).toBeTypeOf("function");
  });
});
