/**
 * One connection's own behaviour: send() and its backpressure, the loop, end/close/destroy,
 * errors that must never go unhandled. Over 127.0.0.1; the contract suite covers the rest.
 */

import { once } from "node:events";
import net from "node:net";
import { DEFAULT_MAX_FRAME_BYTES } from "@socket-lab/core";
import { describe, expect, it } from "vitest";
import {
  type Connection,
  connect,
  type Framing,
  lengthPrefixed,
  lengthPrefixedPieces,
  lines,
} from "../src/index.js";
import { addressOf, drain, startClient, startServer, until, within } from "./_sockets.js";

/** A client and the server's side of the same connection; nothing reads unless told to. */
async function pair<M = string>(
  options: { framing?: () => Framing<M>; highWaterMark?: number } = {},
) {
  const framing = options.framing ?? (() => lines() as unknown as Framing<M>);
  const server = await startServer<M>(":0", { framing: framing() });
  const client = await startClient<M>(addressOf(server), {
    framing: framing(),
    highWaterMark: options.highWaterMark,
  });
  const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
  return { server, client, peer: accepted.value as Connection<M> };
}

/**
 * A lengthPrefixed() client (high-water mark 1 KiB) and a raw peer that reads nothing until
 * its socket is resumed.
 */
async function pausedPeer() {
  const server = net.createServer({ pauseOnConnect: true });
  server.listen(0, "127.0.0.1");
  await within(once(server, "listening"), "listening");
  const accepted = once(server, "connection");
  const { port } = server.address() as net.AddressInfo;
  const client = await startClient<Buffer>(`tcp://127.0.0.1:${port}`, {
    framing: lengthPrefixed(),
    highWaterMark: 1024,
  });
  const [socket] = (await within(accepted, "accept")) as [net.Socket];
  return { server, client, socket };
}

describe("send()", () => {
  it("resolves with one shared promise while under the high-water mark", async () => {
    const { client, peer } = await pair();
    const first = client.send("a");
    expect(client.send("b")).toBe(first);
    await first;
    await client.end();
    expect((await within(drain(peer), "the lines")).messages).toEqual(["a", "b"]);
  });

  it("waits for 'drain' over the high-water mark, and resolves once the peer reads", async () => {
    // The kernel takes what the socket buffers hold, and the rest of the frame (the largest
    // lengthPrefixed() allows) waits.
    const { server, client, socket } = await pausedPeer();
    const frame = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES, 1);
    const sent = client.send(frame);
    expect(client.bufferedBytes).toBe(frame.length + 4);
    const state = await Promise.race([
      sent.then(() => "resolved"),
      new Promise((resolve) => setImmediate(() => resolve("pending"))),
    ]);
    expect(state).toBe("pending");
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    await within(sent, "send() to resolve");
    expect(client.bufferedBytes).toBe(0);
    await client.close();
    await until(() => received === frame.length + 4, "every byte at the peer");
    server.close();
  });

  it("keeps the header of a frame the kernel takes later: its output buffer waits for it", async () => {
    const { server, client, socket } = await pausedPeer();
    const small = (n: number) => Buffer.alloc(100, n);
    const big = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES, 7);
    const over = Buffer.alloc(2000, 8);
    // The kernel takes part of the big frame and nothing after it while the peer reads
    // nothing; the small frame and the header of the frame over the high-water mark wait in
    // the output buffer.
    void client.send(big);
    void client.send(small(0));
    const sent = client.send(over);
    expect(client.bufferedBytes).toBeGreaterThan(1024);
    // Later ticks' frames go into the same output buffer; none may land on bytes still queued.
    const frames = [big, small(0), over];
    for (let tick = 1; tick <= 20; tick++) {
      frames.push(small(tick));
      void client.send(small(tick));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.resume();
    await within(sent, "send() of the big frame");
    await client.end();
    await within(once(socket, "end"), "the peer's end");
    const bytes = Buffer.concat(chunks);
    const received: Buffer[] = [];
    for (let at = 0; at < bytes.length; ) {
      const length = bytes.readUInt32BE(at);
      received.push(bytes.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    expect(received.map((frame) => frame.length)).toEqual(frames.map((frame) => frame.length));
    expect(received.findIndex((frame, index) => !frame.equals(frames[index] as Buffer))).toBe(-1);
    server.close();
  });

  it("reuses its output buffer only once the kernel has taken every byte written from it", async () => {
    const { client, peer } = await pair<Buffer>({
      framing: () => lengthPrefixed(),
      highWaterMark: 64 * 1024 * 1024,
    });
    const TICKS = 400;
    const PER_TICK = 50;
    const frame = (index: number) => {
      const message = Buffer.alloc(1_000, index % 251);
      message.writeUInt32BE(index, 0);
      return message;
    };
    // Many flushes of one slab queue up behind each other while the peer does not read; the
    // peer starts reading halfway, so writes complete while later ones still wait.
    let reading: Promise<{ messages: Buffer[]; error: unknown }> | undefined;
    for (let tick = 0; tick < TICKS; tick++) {
      for (let i = 0; i < PER_TICK; i++) void client.send(frame(tick * PER_TICK + i));
      if (tick === TICKS / 2) reading = drain(peer);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await client.end();
    const { messages, error } = await within(reading ?? drain(peer), "20 MB");
    expect(error).toBeUndefined();
    expect(messages).toHaveLength(TICKS * PER_TICK);
    expect(messages.findIndex((message, index) => !message.equals(frame(index)))).toBe(-1);
  });

  it("sends a frame over the high-water mark from the caller's buffer, in order with the rest", async () => {
    const { client, peer } = await pair<Buffer>({
      framing: () => lengthPrefixed(),
      highWaterMark: 1024,
    });
    const small = (n: number) => Buffer.alloc(100, n);
    const big = Buffer.alloc(64 * 1024, 7);
    big.writeUInt32BE(0xdeadbeef, 0);
    // One tick: small frames copied into the output buffer, the big one written as it is.
    void client.send(small(1));
    const sent = client.send(big);
    void client.send(small(2));
    const reading = drain(peer);
    await within(sent, "send() of the big frame");
    // Resolved: the kernel has its bytes, so the caller may reuse the buffer.
    big.fill(0);
    await client.end();
    const { messages, error } = await within(reading, "the frames");
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.length)).toEqual([100, 64 * 1024, 100]);
    expect(messages[0]?.equals(small(1))).toBe(true);
    expect(messages[1]?.readUInt32BE(0)).toBe(0xdeadbeef);
    expect(messages[1]?.subarray(4).every((byte) => byte === 7)).toBe(true);
    expect(messages[2]?.equals(small(2))).toBe(true);
  });

  it("sends the pieces of a frame over the high-water mark as they are; a lengthPrefixed() peer reads the frame whole", async () => {
    const server = await startServer<Buffer>(":0", { framing: lengthPrefixed() });
    const client = await startClient<Buffer[]>(addressOf(server), {
      framing: lengthPrefixedPieces(),
      highWaterMark: 1024,
    });
    const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
    const peer = accepted.value as Connection<Buffer>;
    const pieces = [Buffer.alloc(40_000, 1), Buffer.alloc(0), Buffer.alloc(30_000, 2)];
    void client.send([Buffer.from("before")]);
    const sent = client.send(pieces);
    // Handed to the socket at once, with the frame sent before it.
    const before = client.stats;
    expect(before.bytesSent).toBe(4 + 6 + 4 + 70_000);
    void client.send([Buffer.from("af"), Buffer.from("ter")]);
    const reading = drain(peer);
    await within(sent, "send() of the big frame");
    await client.end();
    const { messages, error } = await within(reading, "the frames");
    expect(error).toBeUndefined();
    expect(messages.map(String).filter((m) => m.length < 10)).toEqual(["before", "after"]);
    // stats is a snapshot, taken when read: the one read before did not move.
    expect(client.stats.bytesSent).toBeGreaterThan(before.bytesSent);
    expect(before.bytesSent).toBe(4 + 6 + 4 + 70_000);
    expect(messages[1]?.equals(Buffer.concat(pieces))).toBe(true);
  });

  it("hands a frame over the high-water mark to the socket at once: write() is true when the kernel took it all", async () => {
    const { client, peer } = await pair<Buffer>({
      framing: () => lengthPrefixed(),
      highWaterMark: 1024,
    });
    const reading = drain(peer);
    const frames = Array.from({ length: 50 }, (_, i) => Buffer.alloc(16 * 1024, i));
    let taken = 0;
    for (const frame of frames) {
      const fits = client.write(frame);
      // Nothing of it waits for the end of the tick; what the kernel did not take yet is the
      // socket's, and write() says whether that is within the high-water mark.
      expect(client.stats.bytesSent).toBe(client.stats.messagesSent * (16 * 1024 + 4));
      expect(fits).toBe(client.bufferedBytes <= 1024);
      if (fits) taken++;
      else await within(client.drain(), "drain()");
    }
    await client.end();
    const { messages, error } = await within(reading, "the frames");
    expect(error).toBeUndefined();
    // Buffer.equals, not toEqual: a deep compare of 800 KB byte by byte takes seconds.
    expect(messages).toHaveLength(frames.length);
    expect(messages.findIndex((message, index) => !message.equals(frames[index] as Buffer))).toBe(
      -1,
    );
    // The peer reads as they come, so the kernel takes some 16 KiB frames whole, at once.
    expect(taken).toBeGreaterThan(0);
  });

  it("copies a frame under the high-water mark: changing it right after send() changes nothing", async () => {
    const { client, peer } = await pair<Buffer>({ framing: () => lengthPrefixed() });
    const frame = Buffer.alloc(1024, 1);
    void client.send(frame);
    frame.fill(2);
    await client.end();
    const { messages } = await within(drain(peer), "the frame");
    expect(messages).toEqual([Buffer.alloc(1024, 1)]);
  });

  it("rejects a line the framing cannot encode with a TypeError, sending nothing", async () => {
    const { client } = await pair();
    await expect(client.send("two\nlines")).rejects.toThrow(TypeError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.stats).toMatchObject({ bytesSent: 0, messagesSent: 0 });
  });

  it("never leaves an unhandled rejection when nobody awaits it", async () => {
    // A peer that resets the connection when the first bytes arrive.
    const server = net.createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.resetAndDestroy());
    });
    server.listen(0, "127.0.0.1");
    await within(once(server, "listening"), "listening");
    const { port } = server.address() as net.AddressInfo;
    const client = await startClient(`tcp://127.0.0.1:${port}`, {});
    const pending = client.send("in flight"); // resolves: it reached the kernel
    expect((await within(drain(client), "the reset")).error).toMatchObject({ code: "ECONNRESET" });
    for (let i = 0; i < 10; i++) void client.send(`late ${i}`);
    await expect(client.send("awaited")).rejects.toMatchObject({ code: "ECONNRESET" });
    await pending;
    server.close();
    // Vitest fails the run on an unhandled rejection; reaching the end of a tick is the test.
    await new Promise((resolve) => setImmediate(resolve));
  });
});

describe("write() and drain()", () => {
  it("queues like send(), returning true under the high-water mark and false over it", async () => {
    const { client, peer } = await pair<Buffer>({
      framing: () => lengthPrefixed(),
      highWaterMark: 1024,
    });
    const frames = Array.from({ length: 20 }, (_, i) => Buffer.alloc(100, i));
    const fits = frames.map((frame) => client.write(frame));
    // 104 bytes each with the prefix: the tenth goes over 1,024.
    expect(fits.indexOf(false)).toBe(9);
    expect(fits.slice(9).every((fit) => !fit)).toBe(true);
    expect(client.bufferedBytes).toBe(20 * 104);
    await within(client.drain(), "drain()");
    expect(client.bufferedBytes).toBeLessThanOrEqual(1024);
    await client.end();
    expect((await within(drain(peer), "the frames")).messages).toEqual(frames);
  });

  it("drain() resolves at once under the high-water mark", async () => {
    const { client } = await pair();
    expect(client.write("short")).toBe(true);
    const state = await Promise.race([
      client.drain().then(() => "resolved"),
      new Promise((resolve) => setImmediate(() => resolve("pending"))),
    ]);
    expect(state).toBe("resolved");
  });

  it("a loop that awaits drain() only on false sends everything, in order, within the limit", async () => {
    const { client, peer } = await pair<Buffer>({ framing: () => lengthPrefixed() });
    const reading = drain(peer);
    let most = 0;
    for (let i = 0; i < 50_000; i++) {
      const frame = Buffer.alloc(100);
      frame.writeUInt32BE(i, 0);
      if (!client.write(frame)) {
        most = Math.max(most, client.bufferedBytes);
        await client.drain();
      }
    }
    await client.end();
    const { messages, error } = await within(reading, "50,000 frames");
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.readUInt32BE(0))).toEqual(
      Array.from({ length: 50_000 }, (_, i) => i),
    );
    // Over the mark by at most the message that crossed it.
    expect(most).toBeLessThanOrEqual(64 * 1024 + 104);
  });

  it("throws what send() rejects with, synchronously, and sends nothing", async () => {
    const { client, peer } = await pair();
    expect(() => client.write("two\nlines")).toThrow(TypeError);
    expect(client.stats.messagesSent).toBe(0);
    const framed = await pair<Buffer>({ framing: () => lengthPrefixed({ maxFrameBytes: 10 }) });
    expect(() => framed.client.write(Buffer.alloc(11))).toThrow(
      expect.objectContaining({ code: "ERR_FRAME_TOO_LARGE" }),
    );
    await client.end();
    expect(() => client.write("late")).toThrow(
      expect.objectContaining({ code: "ERR_SOCKET_CLOSED" }),
    );
    expect((await within(drain(peer), "the end")).messages).toEqual([]);
  });

  it("drain() rejects with the failure when the connection fails before draining", async () => {
    const { client, peer } = await pair<Buffer>({
      framing: () => lengthPrefixed(),
      highWaterMark: 1024,
    });
    expect(client.write(Buffer.alloc(4 * 1024 * 1024))).toBe(false);
    const drained = client.drain();
    peer.destroy(new Error("gone"));
    await expect(within(drained, "drain() to settle")).rejects.toMatchObject({
      code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/),
    });
    await expect(client.drain()).rejects.toMatchObject({
      code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/),
    });
  });
});

describe("the message loop", () => {
  it("can be left with break and entered again, missing nothing", async () => {
    const { client, peer } = await pair();
    for (const line of ["1", "2", "3"]) await client.send(line);
    await client.end();
    for await (const line of peer) {
      expect(line).toBe("1");
      break;
    }
    expect((await within(drain(peer), "the rest")).messages).toEqual(["2", "3"]);
  });

  it("writes what was sent as soon as the loop waits for the peer, not at the end of the tick", async () => {
    const server = await startServer(":0", {});
    const sends: number[] = [];
    const client = await startClient<string>(addressOf(server), {
      trace: (event) => {
        if (event.type === "send") sends.push(event.bytes);
      },
    });
    void client.send("request");
    expect(sends).toEqual([]);
    const reply = client[Symbol.asyncIterator]().next();
    expect(sends).toEqual([8]);
    const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
    const peer = accepted.value as Connection<string>;
    const request = await within(peer[Symbol.asyncIterator]().next(), "the request");
    expect(request.value).toBe("request");
    await peer.send("reply");
    expect((await within(reply, "the reply")).value).toBe("reply");
  });

  it("delivers a last line without its \\n at the end of the stream", async () => {
    const server = await startServer(":0", {});
    const endpoint = server.endpoint as { host: string; port: number };
    const raw = net.connect({ host: endpoint.host, port: endpoint.port });
    raw.end("no newline");
    const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
    expect((await within(drain(accepted.value as Connection<string>), "end")).messages).toEqual([
      "no newline",
    ]);
  });

  it("throws ERR_FRAME_TRUNCATED when the peer ends inside a frame", async () => {
    const server = await startServer(":0", { framing: lengthPrefixed() });
    const endpoint = server.endpoint as { host: string; port: number };
    const raw = net.connect({ host: endpoint.host, port: endpoint.port });
    raw.on("error", () => {});
    raw.end(Buffer.from([0, 0, 0, 10, 1, 2, 3]));
    const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
    const { error } = await within(drain(accepted.value as Connection<Buffer>), "end");
    expect(error).toMatchObject({ code: "ERR_FRAME_TRUNCATED" });
  });
});

describe("each()", () => {
  it("hands each message to the listener in order, and resolves when the peer ends", async () => {
    const { client, peer } = await pair();
    const seen: string[] = [];
    const reading = peer.each((line) => {
      seen.push(line);
    });
    for (const line of ["1", "2", "3"]) client.write(line);
    await client.end();
    await within(reading, "each() to resolve");
    expect(seen).toEqual(["1", "2", "3"]);
    expect(peer.stats.messagesReceived).toBe(3);
  });

  it("gives the messages received before it first", async () => {
    const { client, peer } = await pair();
    await client.send("early");
    await until(() => peer.stats.messagesReceived === 1, "the early line to arrive");
    const seen: string[] = [];
    const reading = peer.each((line) => {
      seen.push(line);
    });
    expect(seen).toEqual(["early"]);
    await client.send("late");
    await client.end();
    await within(reading, "each() to resolve");
    expect(seen).toEqual(["early", "late"]);
  });

  it("writes what the listener sent before the read that brought the message returns", async () => {
    const sends: number[] = [];
    const flushedBeforeTick: number[] = [];
    const server = await startServer<string>(":0", {
      trace: (event) => {
        if (event.type === "send") sends.push(event.bytes);
      },
      handler: (connection) =>
        connection.each((line) => {
          // Scheduled before the write: it runs after the flush only if the flush is not
          // left to the end of the tick.
          process.nextTick(() => flushedBeforeTick.push(sends.length));
          connection.write(line.toUpperCase());
        }),
    });
    const client = await startClient<string>(addressOf(server), {});
    await client.send("ping");
    const reply = await within(client[Symbol.asyncIterator]().next(), "the reply");
    expect(reply.value).toBe("PING");
    expect(flushedBeforeTick).toEqual([1]);
  });

  it("waits for the listener's promise before the next message", async () => {
    const { client, peer } = await pair();
    const seen: string[] = [];
    let release = (): void => {};
    const reading = peer.each((line) => {
      seen.push(line);
      if (line === "1") return new Promise<void>((resolve) => (release = resolve));
    });
    for (const line of ["1", "2", "3"]) client.write(line);
    await client.end();
    await until(() => peer.stats.messagesReceived === 3, "all three lines to arrive");
    expect(seen).toEqual(["1"]);
    release();
    await within(reading, "each() to resolve");
    expect(seen).toEqual(["1", "2", "3"]);
  });

  it("rejects with what the listener threw; what follows waits for the next reader", async () => {
    const { client, peer } = await pair();
    const oops = new Error("listener failed");
    const seen: string[] = [];
    const reading = peer.each((line) => {
      seen.push(line);
      if (line === "2") throw oops;
    });
    for (const line of ["1", "2", "3"]) client.write(line);
    await client.end();
    await expect(within(reading, "each() to reject")).rejects.toBe(oops);
    expect(seen).toEqual(["1", "2"]);
    expect((await within(drain(peer), "the rest")).messages).toEqual(["3"]);
  });

  it("rejects with what the listener's promise rejected with", async () => {
    const { client, peer } = await pair();
    const oops = new Error("async listener failed");
    const reading = peer.each(() => Promise.reject(oops));
    client.write("1");
    await expect(within(reading, "each() to reject")).rejects.toBe(oops);
  });

  it("rejects with the connection's failure, as the loop throws it", async () => {
    const { peer } = await pair();
    const reading = peer.each(() => {});
    peer.destroy(Object.assign(new Error("broken"), { code: "EPIPE" }));
    await expect(within(reading, "each() to reject")).rejects.toMatchObject({
      name: "SocketError",
      code: "EPIPE",
    });
  });

  it("close() from the listener drops the rest of the read, resolves, and closes", async () => {
    const { client, peer } = await pair();
    const seen: string[] = [];
    let closing: Promise<void> | undefined;
    const reading = peer.each((line) => {
      seen.push(line);
      closing = peer.close();
    });
    client.write("1");
    client.write("2");
    client.write("3");
    await within(reading, "each() to resolve");
    expect(seen).toEqual(["1"]);
    expect((await within(drain(client), "the client's loop")).messages).toEqual([]);
    await client.close();
    await within(closing ?? Promise.reject(new Error("never closed")), "close");
  });

  it("rejects with a TypeError while a loop or another each() reads, or without a function", async () => {
    const { client, peer } = await pair();
    await expect(peer.each("no" as never)).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "listener" argument must be of type function. Received type string ('no')`,
    });
    const waiting = peer[Symbol.asyncIterator]().next();
    await expect(peer.each(() => {})).rejects.toThrow(/read it in one place/);
    await client.send("for the loop");
    expect((await within(waiting, "the loop's message")).value).toBe("for the loop");
    const reading = peer.each(() => {});
    await expect(peer.each(() => {})).rejects.toThrow(/read it in one place/);
    await expect(peer[Symbol.asyncIterator]().next()).rejects.toThrow(/read it in one place/);
    await client.end();
    await within(reading, "each() to resolve");
  });
});

describe("end(), close(), destroy()", () => {
  it("destroy() ends the loop, fails later sends with ERR_SOCKET_CLOSED and resolves closed", async () => {
    const { client, peer } = await pair();
    const reading = drain(client);
    client.destroy();
    expect(await within(reading, "the loop to end")).toEqual({ messages: [], error: undefined });
    await within(client.closed, "closed");
    await expect(client.send("x")).rejects.toMatchObject({ code: "ERR_SOCKET_CLOSED" });
    expect((await within(drain(peer), "the peer's end")).error).toBeUndefined();
  });

  it("destroy(error) makes the loop throw it as a SocketError", async () => {
    const { client } = await pair();
    const reading = drain(client);
    client.destroy(Object.assign(new Error("broken"), { code: "EPIPE" }));
    const { error } = await within(reading, "the loop to fail");
    expect(error).toMatchObject({ name: "SocketError", code: "EPIPE" });
    await within(client.closed, "closed");
  });

  it("close() flushes, ends, drops unread messages and waits for the peer; idempotent", async () => {
    const { client, peer } = await pair();
    await peer.send("unread");
    await until(() => client.stats.messagesReceived === 1, "the unread line to arrive");
    void client.send("last words");
    const closing = client.close();
    expect(client.close()).toBe(closing);
    expect((await within(drain(client), "the loop")).messages).toEqual([]);
    // The peer gets what was sent before the close, then the end; then it closes too.
    expect((await within(drain(peer), "the peer's loop")).messages).toEqual(["last words"]);
    await peer.close();
    await within(closing, "close");
  });

  it("close({ timeoutMs }) destroys a connection whose peer never ends", async () => {
    const peers: net.Socket[] = [];
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on("error", () => {});
      socket.resume();
      peers.push(socket);
    });
    server.listen(0, "127.0.0.1");
    await within(once(server, "listening"), "listening");
    const { port } = server.address() as net.AddressInfo;
    const client = await connect(`tcp://127.0.0.1:${port}`);
    await within(client.close({ timeoutMs: 20 }), "close");
    for (const socket of peers) socket.destroy();
    server.close();
  });

  it("end() still lets the peer's messages in, and is what `await using` closes after", async () => {
    const { client, peer } = await pair();
    {
      await using connection = client;
      await connection.end();
      await peer.send("after your end");
      const reply = await within(connection[Symbol.asyncIterator]().next(), "the reply");
      expect(reply.value).toBe("after your end");
      void peer.close();
    }
    await within(client.closed, "closed");
  });
});

describe("send({ signal }) and drain({ signal })", () => {
  it("stop waiting for 'drain' with the signal's reason; what send() accepted is still sent", async () => {
    const { server, client, socket } = await pausedPeer();
    const frame = Buffer.alloc(DEFAULT_MAX_FRAME_BYTES, 1);
    const controller = new AbortController();
    const sent = client.send(frame, { signal: controller.signal });
    const draining = client.drain({ signal: controller.signal });
    expect(client.bufferedBytes).toBe(frame.length + 4); // waiting: the peer reads nothing
    const reason = new Error("no longer needed");
    controller.abort(reason);
    await expect(within(sent, "the abort")).rejects.toBe(reason);
    await expect(within(draining, "the abort")).rejects.toBe(reason);
    // A signal aborted with null: Node's AbortError, as from every package.
    const none = new AbortController();
    const stillDraining = client.drain({ signal: none.signal });
    none.abort(null);
    await expect(within(stillDraining, "the abort")).rejects.toMatchObject({
      name: "AbortError",
      code: "ABORT_ERR",
    });
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    await client.close();
    await until(() => received === frame.length + 4, "every byte of the frame at the peer");
    server.close();
  });

  it("queue nothing when the signal has already fired, and check the signal", async () => {
    const { client, peer } = await pair();
    const controller = new AbortController();
    controller.abort();
    const error = await client.send("never", { signal: controller.signal }).catch((e) => e);
    expect(error).toBe(controller.signal.reason);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(client.bufferedBytes).toBe(0);
    // @ts-expect-error: not a signal
    await expect(client.send("x", { signal: 5 })).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_TYPE",
      message:
        'The "options.signal" property must be an instance of AbortSignal. Received type number (5)',
    });
    await client.send("sent", { signal: new AbortController().signal });
    await client.end();
    expect((await within(drain(peer), "the lines")).messages).toEqual(["sent"]);
  });
});
