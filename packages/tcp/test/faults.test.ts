/**
 * Faults and hostile peers, on real sockets: slow-loris clients, connection floods, invalid
 * UTF-8, and the security defaults each checked as the value itself, with no options given.
 * (Out of file descriptors is tested on the built tcp-echo server under a lowered `ulimit -n`:
 * apps/tcp-echo/test/faults.test.ts.)
 */

import { once } from "node:events";
import { statSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import type { SocketError } from "@socket-lab/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type Connection,
  DEFAULT_FRAME_TIMEOUT_MS,
  lengthPrefixed,
  lines,
  type Server,
} from "../src/index.js";
import {
  addressOf,
  drain,
  echoRecording,
  fakeClockFailure,
  nextEvent,
  startClient,
  startServer,
  tempDir,
  until,
  within,
} from "./_sockets.js";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A raw TCP socket to a server, as nc or a hostile client would open, destroyed at the end. */
async function rawSocket(server: Server<unknown>): Promise<net.Socket> {
  const { endpoint } = server;
  const socket =
    endpoint.transport === "unix"
      ? net.connect({ path: endpoint.path })
      : net.connect({ host: endpoint.host, port: endpoint.port });
  socket.on("error", () => {});
  await within(once(socket, "connect"), "connect");
  return socket;
}

/** Resolves with the error a socket failed with (if any) once it has closed. */
function closedWith(socket: net.Socket): Promise<Error | undefined> {
  let failure: Error | undefined;
  socket.on("error", (error) => {
    failure = error;
  });
  return within(
    new Promise((resolve) => socket.once("close", () => resolve(failure))),
    "the socket to close",
  );
}

/** The port of a server listening on tcp. */
function portOf(server: Server<unknown>): number {
  return server.endpoint.transport === "tcp" ? server.endpoint.port : 0;
}

/** Writes `bytes` one byte at a time, `everyMs` apart, until done or the socket closes. */
async function dribble(socket: net.Socket, bytes: Buffer, everyMs: number): Promise<number> {
  let written = 0;
  for (const byte of bytes) {
    if (socket.destroyed || socket.writableEnded) break;
    socket.write(Buffer.of(byte));
    written += 1;
    // Pacing is the fault being simulated, not a wait for something to happen.
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return written;
}

/** Collects what a raw socket receives, without ending it, until it has `bytes` bytes. */
function readRaw(socket: net.Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  return within(
    new Promise((resolve) => {
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= bytes) {
          socket.off("data", onData);
          resolve(Buffer.concat(chunks));
        }
      };
      socket.on("data", onData);
    }),
    `${bytes} bytes`,
  );
}

describe("slow-loris clients", () => {
  it("one byte every 20 ms never trips a 1 s idle timeout: the idle timer alone cannot stop a slow loris", async () => {
    const ends: unknown[] = [];
    const server = await startServer(":0", {
      idleTimeoutMs: 1_000,
      frameTimeoutMs: 0,
      handler: echoRecording(ends),
    });
    const loris = await rawSocket(server);
    // 60 bytes of one line that never ends: more than the idle timeout, in activity.
    const written = await dribble(loris, Buffer.alloc(60, "a"), 20);
    expect(written).toBe(60);
    expect(loris.destroyed).toBe(false);
    expect(ends).toEqual([]);
    expect(server.connectionCount).toBe(1);
  });

  it("frameTimeoutMs closes a connection that starts a line and never finishes it, one byte at a time", async () => {
    const ends: unknown[] = [];
    const server = await startServer(":0", {
      idleTimeoutMs: 1_000,
      frameTimeoutMs: 300,
      handler: echoRecording(ends),
    });
    const loris = await rawSocket(server);
    const closed = closedWith(loris);
    // Bounded: 500 bytes at 20 ms would take 10 s; the deadline ends it long before.
    const written = await dribble(loris, Buffer.alloc(500, "a"), 20);
    await closed;
    expect(written).toBeLessThan(500);
    await until(() => ends.length === 1, "the handler to end");
    expect(ends[0]).toMatchObject({
      name: "SocketError",
      code: "ERR_TIMEOUT",
      message: expect.stringMatching(/ bytes of a line and did not finish it within 300 ms/),
    });
  });

  it("the deadline is per message: a slow peer that finishes each message keeps its connection", async () => {
    const ends: unknown[] = [];
    const server = await startServer(":0", {
      frameTimeoutMs: 600,
      handler: echoRecording(ends),
    });
    const slow = await rawSocket(server);
    const echoed = readRaw(slow, 30);
    // 15 lines of 2 bytes ("a\n"), each byte 30 ms apart: longer in all than the deadline.
    expect(await dribble(slow, Buffer.from("a\n".repeat(15)), 30)).toBe(30);
    expect((await within(echoed, "15 echoes")).toString()).toBe("a\n".repeat(15));
    expect(ends).toEqual([]);
  });

  it("time the server spends not reading (its loop is behind) does not count against the peer", async () => {
    const server = await startServer(":0", { frameTimeoutMs: 300 });
    const peer = await rawSocket(server);
    // 1,000 whole lines and the start of one more, in one write.
    peer.write(`${Array.from({ length: 1_000 }, (_, i) => `line ${i}`).join("\n")}\nlast `);
    const connection = (await within(server[Symbol.asyncIterator]().next(), "accept"))
      .value as Connection<string>;
    const messages = connection[Symbol.asyncIterator]();
    expect((await within(messages.next(), "the first line")).value).toBe("line 0");
    // A slow application: three deadlines pass while the socket is paused.
    await new Promise((resolve) => setTimeout(resolve, 900));
    for (let i = 1; i < 1_000; i++) {
      expect((await within(messages.next(), "a line")).value).toBe(`line ${i}`);
    }
    peer.write("line\n");
    expect((await within(messages.next(), "the last line")).value).toBe("last line");
  });

  it("a length header and then nothing is closed by the frame deadline, the payload never buffered", async () => {
    const ends: unknown[] = [];
    const server = await startServer(":0", {
      framing: lengthPrefixed(),
      idleTimeoutMs: 60_000,
      frameTimeoutMs: 300,
      minDataRate: 0,
      handler: echoRecording(ends),
    });
    const loris = await rawSocket(server);
    const closed = closedWith(loris);
    loris.write(Buffer.from([0x00, 0x10, 0x00, 0x00])); // announces 1 MiB, sends none of it
    await closed;
    await until(() => ends.length === 1, "the handler to end");
    // The header is the start of the frame: its deadline runs though no payload byte is held.
    expect(ends[0]).toMatchObject({
      code: "ERR_TIMEOUT",
      message: expect.stringMatching(/sent 0 bytes of a frame and did not finish it within 300 ms/),
    });
  });

  it("a length header and then a trickle is closed by the frame deadline", async () => {
    const ends: unknown[] = [];
    const server = await startServer(":0", {
      framing: lengthPrefixed(),
      idleTimeoutMs: 1_000,
      frameTimeoutMs: 300,
      handler: echoRecording(ends),
    });
    const loris = await rawSocket(server);
    const closed = closedWith(loris);
    const frame = Buffer.concat([Buffer.from([0, 0, 1, 0]), Buffer.alloc(256, 7)]);
    expect(await dribble(loris, frame, 20)).toBeLessThan(frame.length);
    await closed;
    await until(() => ends.length === 1, "the handler to end");
    expect(ends[0]).toMatchObject({
      code: "ERR_TIMEOUT",
      message: expect.stringMatching(/ bytes of a frame and did not finish it within 300 ms/),
    });
  });
});

describe("connection flood", () => {
  it("200 connections past maxConnections are turned away; the 4 clients already in go on undisturbed", async () => {
    const server = await startServer(":0", {
      maxConnections: 4,
      handler: async (connection) => {
        for await (const line of connection) await connection.send(line);
      },
    });
    let rejected = 0;
    server.on("reject", () => {
      rejected += 1;
    });
    const clients = await Promise.all(
      Array.from({ length: 4 }, () => startClient(addressOf(server), {})),
    );
    // Each client keeps talking while the flood comes: 500 numbered lines, each answered in order.
    const talking = clients.map(async (client, c) => {
      const replies = client[Symbol.asyncIterator]();
      const got: string[] = [];
      for (let n = 0; n < 500; n++) {
        await client.send(`${c}:${n}`);
        got.push((await replies.next()).value as string);
      }
      return got;
    });
    const flood = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const socket = net.connect({ host: "127.0.0.1", port: portOf(server) });
        socket.on("error", () => {});
        socket.resume();
        await closedWith(socket);
        return socket.bytesRead;
      }),
    );
    const conversations = await within(Promise.all(talking), "the clients' 500 echoes each");
    conversations.forEach((got, c) => {
      expect(got).toEqual(Array.from({ length: 500 }, (_, n) => `${c}:${n}`));
    });
    expect(flood.every((bytes) => bytes === 0)).toBe(true);
    expect(rejected).toBe(200);
    expect(server.stats).toMatchObject({ accepted: 4, rejected: 200 });
    expect(server.connectionCount).toBe(4);
  });
});

describe("invalid UTF-8 in line mode, end to end", () => {
  const BAD = Buffer.from([0x68, 0x69, 0xff, 0x0a, 0xc3, 0x28, 0x0a]); // "hi<FF>\n", "<C3>(\n"

  it('invalidUtf8: "replace" (the default) delivers U+FFFD in place of the bad bytes, and goes on', async () => {
    const ends: unknown[] = [];
    const server = await startServer(":0", { handler: echoRecording(ends) });
    const peer = await rawSocket(server);
    const echoed = readRaw(peer, 13);
    peer.write(BAD);
    peer.end("ok\n");
    expect((await within(echoed, "the echoes")).toString()).toBe("hi\uFFFD\n\uFFFD(\nok\n");
    await until(() => ends.length === 1, "the handler to end");
    expect(ends).toEqual(["end"]);
  });

  it('invalidUtf8: "reject" resets that connection with ERR_INVALID_UTF8; other clients go on', async () => {
    const ends: unknown[] = [];
    const server = await startServer(":0", {
      framing: lines({ invalidUtf8: "reject" }),
      handler: echoRecording(ends),
    });
    const other = await startClient(addressOf(server), {});
    const peer = await rawSocket(server);
    const closed = closedWith(peer);
    const echoed = readRaw(peer, 3);
    peer.write("ok\n");
    expect((await within(echoed, "the first echo")).toString()).toBe("ok\n");
    peer.write(BAD);
    expect(await closed).toMatchObject({ code: "ECONNRESET" });
    await until(() => ends.length === 1, "the handler to end");
    expect(ends[0]).toMatchObject({ name: "SocketError", code: "ERR_INVALID_UTF8" });

    await other.send("still served");
    expect((await within(other[Symbol.asyncIterator]().next(), "an echo")).value).toBe(
      "still served",
    );
  });
});

describe("security defaults, each checked with no options given", () => {
  it("binds loopback 127.0.0.1 when the endpoint names no host", async () => {
    const server = await startServer(":0", {});
    expect(server.endpoint).toMatchObject({ transport: "tcp", host: "127.0.0.1" });
  });

  it("creates a unix socket file with mode 0600, owner only", async () => {
    const path = join(tempDir(), "defaults.sock");
    await startServer(`unix://${path}`, {});
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("refuses a line over 64 KiB (65,536 bytes) and takes one of exactly 64 KiB", async () => {
    const server = await startServer(":0", {});
    const accepted = server[Symbol.asyncIterator]();
    const fits = await rawSocket(server);
    fits.write(`${"a".repeat(65_536)}\n`);
    const first = (await within(accepted.next(), "accept")).value as Connection<string>;
    expect(
      ((await within(first[Symbol.asyncIterator]().next(), "the line")).value ?? "").length,
    ).toBe(65_536);

    const tooLong = await rawSocket(server);
    tooLong.write("a".repeat(65_537)); // no \n needed: the limit is passed before it could come
    const second = (await within(accepted.next(), "accept")).value as Connection<string>;
    const { error } = await within(drain(second), "the refusal");
    expect(error).toMatchObject({
      code: "ERR_FRAME_TOO_LARGE",
      message: expect.stringMatching(/limit of 65,536 bytes/),
    });
  });

  it("refuses a length frame over 8 MiB (8,388,608 bytes) from its header alone", async () => {
    const server = await startServer(":0", { framing: lengthPrefixed() });
    const peer = await rawSocket(server);
    peer.write(Buffer.from([0x00, 0x80, 0x00, 0x01])); // 8 MiB + 1, and no payload at all
    const accepted = (await within(server[Symbol.asyncIterator]().next(), "accept"))
      .value as Connection<Buffer>;
    const { error } = await within(drain(accepted), "the refusal");
    expect(error).toMatchObject({
      code: "ERR_FRAME_TOO_LARGE",
      message: expect.stringMatching(/8,388,609 bytes, over the limit of 8,388,608/),
    });
  });

  it("holds at most 1,024 connections: the 1,025th is turned away", async () => {
    // All from 127.0.0.1: the per-address limit (256 by default) is lifted to test this one.
    const server = await startServer(":0", { maxConnectionsPerAddress: 1_025 });
    const port = portOf(server);
    const rejectedOne = nextEvent(server, "reject");
    const sockets: net.Socket[] = [];
    try {
      // In batches, so the kernel's accept queue (backlog 511) never overflows.
      for (let batch = 0; batch < 1_025; batch += 256) {
        const size = Math.min(256, 1_025 - batch);
        const opened = Array.from({ length: size }, () => {
          const socket = net.connect({ host: "127.0.0.1", port }).on("error", () => {});
          sockets.push(socket);
          return within(once(socket, "connect"), "a connect");
        });
        await Promise.all(opened);
        await until(
          () => server.stats.accepted + server.stats.rejected === batch + size,
          "the server to accept the batch",
        );
      }
      expect(await rejectedOne).toMatchObject({ reason: "max-connections" });
      expect(server.stats).toMatchObject({ accepted: 1_024, rejected: 1 });
      expect(server.connectionCount).toBe(1_024);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });

  it("closes a connection idle for 120,000 ms (2 minutes)", async () => {
    const setTimeoutSpy = vi.spyOn(net.Socket.prototype, "setTimeout");
    const server = await startServer(":0", {});
    await rawSocket(server);
    const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
    expect(accepted.done).toBe(false);
    // The accepted socket, not the client's, is the one whose timeout is set.
    expect(setTimeoutSpy.mock.calls).toEqual([[120_000]]);
  });

  it("gives a started message 30,000 ms to arrive whole (DEFAULT_FRAME_TIMEOUT_MS)", async () => {
    expect(DEFAULT_FRAME_TIMEOUT_MS).toBe(30_000);
    // The deadline alone: with the default minDataRate these 19 bytes would be too slow after
    // 5 s (hostile-peers.test.ts checks that default).
    const server = await startServer(":0", { minDataRate: 0 });
    const peer = await rawSocket(server);
    const accepted = (await within(server[Symbol.asyncIterator]().next(), "accept"))
      .value as Connection<string>;
    const { openBefore, error } = await fakeClockFailure(accepted, peer, 30_000);
    expect(openBefore).toBe(true);
    expect(error).toMatchObject({ code: "ERR_TIMEOUT" });
    expect((error as SocketError).message).toMatch(/within 30000 ms/);
  });
});
