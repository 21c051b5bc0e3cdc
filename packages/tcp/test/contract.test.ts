/**
 * The contract every stream endpoint keeps, run over 127.0.0.1, ::1, a unix socket path and TLS,
 * each with line and length-prefixed framing: real sockets, port 0, every wait bounded.
 */

import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";
import { explain, type SocketError } from "@socket-lab/core";
import { describe, expect, it } from "vitest";
import {
  type CloseResult,
  type Connection,
  connect,
  DEFAULT_HIGH_WATER_MARK,
} from "../src/index.js";
import {
  addressOf,
  CERTIFICATE,
  deadEndpoint,
  drain,
  FRAMINGS,
  nextEvent,
  PLACES,
  random,
  recorder,
  startClient,
  startServer,
  within,
} from "./_sockets.js";

/** Echoes every message back, then lets the server close the connection. */
async function echo(connection: Connection<unknown>): Promise<void> {
  for await (const message of connection) await connection.send(message);
}

/** The two ways to read a connection; the tests that carry many messages run with both. */
const READERS = [
  {
    name: "a for await loop",
    read: async (connection: Connection<unknown>, take: (message: unknown) => unknown) => {
      for await (const message of connection) await take(message);
    },
  },
  {
    name: "each()",
    read: (connection: Connection<unknown>, take: (message: unknown) => unknown) =>
      connection.each(take as (message: unknown) => undefined),
  },
];

/** core's hint for `code`; on a unix path it has hints of its own (a stale file, permissions). */
const CORE_HINT = (code: string, unix: boolean) =>
  explain(Object.assign(new Error(code), { code }, unix ? { address: "/x.sock", port: -1 } : {}))
    .hint;

describe.each(PLACES)("over $name", (place) => {
  describe.each(FRAMINGS)("with $name framing", (framing) => {
    it.each(READERS)(
      "carries 10,000 messages of 0 to 64 KiB each way, intact and in order, read by $name",
      async ({ read }) => {
        const server = await startServer(place.listenOn(), {
          framing: framing.framing(65_536),
          // Echoes each message, waiting for the drain only over the high-water mark.
          handler: (connection) =>
            read(connection, (message) => {
              if (!connection.write(message)) return connection.drain();
            }),
        });
        const client = await startClient(addressOf(server), { framing: framing.framing(65_536) });
        const next = random(7);
        // Sizes from 0 to 65,536 bytes, both ends included, most of them small (mean ~5 KiB).
        const sizes = Array.from({ length: 10_000 }, () => Math.floor(65_537 * next() ** 12));
        sizes[0] = 0;
        sizes[1] = 65_536;
        sizes[5_000] = 0;
        sizes[9_999] = 65_536;
        const messages = sizes.map((bytes, i) => framing.message(bytes, i));

        const echoed = drain(client);
        for (const message of messages) await client.send(message);
        await client.end();
        const result = await within(echoed, "10,000 echoes");

        expect(result.error).toBeUndefined();
        expect(result.messages).toHaveLength(10_000);
        expect(result.messages.findIndex((m, i) => !framing.same(m, messages[i]))).toBe(-1);
        expect(client.stats.messagesSent).toBe(10_000);
        expect(client.stats.messagesReceived).toBe(10_000);
        expect(client.stats.bytesReceived).toBe(client.stats.bytesSent);
      },
    );

    it("half-closes: the server replies after the client's end", async () => {
      const server = await startServer(place.listenOn(), {
        framing: framing.framing(),
        handler: async (connection) => {
          const { messages } = await drain(connection);
          await connection.send(framing.numbered(messages.length, 16));
          await connection.end();
        },
      });
      const { trace, count } = recorder();
      const client = await startClient(addressOf(server), { framing: framing.framing(), trace });
      await client.send(framing.message(10, 1));
      await client.send(framing.message(20, 2));
      await client.end();
      await expect(client.send(framing.message(1, 3))).rejects.toMatchObject({
        code: "ERR_SOCKET_CLOSED",
      });

      const { messages, error } = await within(drain(client), "the reply");
      expect(error).toBeUndefined();
      expect(messages.map(framing.indexOf)).toEqual([2]);
      expect(count("shutdown")).toBe(1);
      await within(client.closed, "the connection to close");
    });

    it("half-closes: the client replies after the server's end", async () => {
      let received!: Promise<{ messages: unknown[]; error: unknown }>;
      const server = await startServer(place.listenOn(), {
        framing: framing.framing(),
        handler: async (connection) => {
          await connection.send(framing.numbered(1, 16));
          await connection.end();
          received = drain(connection);
          await received;
        },
      });
      const client = await startClient(addressOf(server), { framing: framing.framing() });
      const fromServer = await within(drain(client), "the server's end");
      expect(fromServer.messages.map(framing.indexOf)).toEqual([1]);

      for (let i = 0; i < 3; i++) await client.send(framing.numbered(i, 16));
      await client.end();
      await within(client.closed, "the connection to close");
      const fromClient = await within(received, "the client's messages");
      expect(fromClient.error).toBeUndefined();
      expect(fromClient.messages.map(framing.indexOf)).toEqual([0, 1, 2]);
    });

    it("keeps the sender's memory bounded while a paused reader is offered 256 MiB, then delivers it all", async () => {
      const SIZE = 64 * 1024;
      const COUNT = (256 * 1024 * 1024) / SIZE;
      const server = await startServer(place.listenOn(), { framing: framing.framing(SIZE) });
      const client = await startClient(addressOf(server), { framing: framing.framing(SIZE) });
      const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
      const reader = accepted.value as Connection<unknown>;

      const memory = () => {
        const usage = process.memoryUsage();
        return usage.heapUsed + usage.arrayBuffers;
      };
      const baseline = memory();
      const make = framing.numberer(SIZE);
      let offered = 0;
      let peakBuffered = 0;
      let peakMemory = 0;
      const sending = (async () => {
        for (let i = 0; i < COUNT; i++) {
          await client.send(make(i));
          offered += SIZE;
          peakBuffered = Math.max(peakBuffered, client.bufferedBytes);
          if (i % 8 === 0) peakMemory = Math.max(peakMemory, memory() - baseline);
        }
        await client.end();
      })();

      // The reader does not read. Wait until the sender stops getting anywhere: its send()
      // waits for a 'drain' that cannot come while every buffer on the way is full.
      let last = -1;
      let still = 0;
      for (let polls = 0; still < 10; polls++) {
        if (polls > 1_000) throw new Error("the sender never blocked");
        await new Promise((resolve) => setTimeout(resolve, 10));
        still = offered === last ? still + 1 : 0;
        last = offered;
      }
      const MiB = 1024 * 1024;
      expect(offered).toBeLessThan(64 * MiB);
      expect(peakBuffered).toBeLessThanOrEqual(DEFAULT_HIGH_WATER_MARK + SIZE + 4);
      expect(peakMemory).toBeLessThan(64 * MiB);
      expect(reader.stats.bytesReceived).toBeLessThan(64 * MiB);

      // Now read: everything offered arrives, in order.
      let expected = 0;
      let misplaced = 0;
      for await (const message of reader) {
        if (framing.indexOf(message) !== expected) misplaced++;
        expected++;
      }
      await within(sending, "the sender to finish");
      expect(misplaced).toBe(0);
      expect(expected).toBe(COUNT);
    });

    it("closes connections over maxConnections at once, counts and reports them", async () => {
      const server = await startServer(place.listenOn(), {
        framing: framing.framing(),
        maxConnections: 2,
        handler: echo,
      });
      const rejected = nextEvent(server, "reject");
      const clients = [
        await startClient(addressOf(server), { framing: framing.framing() }),
        await startClient(addressOf(server), { framing: framing.framing() }),
      ];
      for (const [i, client] of clients.entries()) {
        await client.send(framing.numbered(i, 8));
        const reply = await within(client[Symbol.asyncIterator]().next(), "an echo");
        expect(framing.indexOf(reply.value)).toBe(i);
      }
      const third = await startClient(addressOf(server), { framing: framing.framing() });
      expect(await rejected).toMatchObject({ reason: "max-connections" });
      expect((await within(drain(third), "the third to be closed")).messages).toEqual([]);
      expect(server.stats).toMatchObject({ accepted: 2, rejected: 1 });
      expect(server.connectionCount).toBe(2);

      for (const [i, client] of clients.entries()) {
        await client.send(framing.numbered(10 + i, 8));
        const reply = await within(client[Symbol.asyncIterator]().next(), "an echo");
        expect(framing.indexOf(reply.value)).toBe(10 + i);
      }
    });

    it("closes an idle connection with ERR_TIMEOUT", async () => {
      const server = await startServer(place.listenOn(), {
        framing: framing.framing(),
        idleTimeoutMs: 50,
      });
      const client = await startClient(addressOf(server), { framing: framing.framing() });
      const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
      const serverSide = await within(drain(accepted.value as Connection<unknown>), "idleness");
      expect(serverSide.error).toMatchObject({ code: "ERR_TIMEOUT" });
      // The client sees the end of messages; its own side stays open until it closes it.
      expect((await within(drain(client), "the client's end")).error).toBeUndefined();
      await within(client.close(), "the client to close");
    });

    it.each(READERS)(
      "closes gracefully: every one of 1,000 requests in flight that the server took is answered, read by $name",
      async ({ read }) => {
        const CLIENTS = 10;
        const PER_CLIENT = 100;
        let taken = 0;
        let closing: Promise<CloseResult> | undefined;
        let connected = 0;
        const server = await startServer(place.listenOn(), {
          framing: framing.framing(),
          handler: (connection) =>
            read(connection, (request) => {
              taken++;
              if (taken === (CLIENTS * PER_CLIENT) / 2)
                closing = server.close({ timeoutMs: 10_000 });
              return connection.send(request);
            }),
        });
        const allConnected = new Promise<void>((resolve) => {
          server.on("connection", () => {
            if (++connected === CLIENTS) resolve();
          });
        });
        const clients: Connection<unknown>[] = [];
        for (let i = 0; i < CLIENTS; i++) {
          clients.push(await startClient(addressOf(server), { framing: framing.framing() }));
        }
        await within(allConnected, "every connection to be accepted");

        const replies = clients.map(async (client, c) => {
          for (let i = 0; i < PER_CLIENT; i++) {
            void client.send(framing.numbered(c * PER_CLIENT + i, 32));
          }
          const result = await drain(client);
          await client.close();
          return result;
        });
        const results = await within(Promise.all(replies), "the replies");
        const result = await within(closing ?? Promise.reject(new Error("never closed")), "close");

        expect(taken).toBeGreaterThanOrEqual((CLIENTS * PER_CLIENT) / 2);
        let answered = 0;
        for (const [c, { messages, error }] of results.entries()) {
          expect(error).toBeUndefined();
          const indexes = messages.map(framing.indexOf);
          expect(indexes).toEqual(indexes.map((_, i) => c * PER_CLIENT + i));
          answered += messages.length;
        }
        expect(answered).toBe(taken);
        expect(result).toEqual({ ended: CLIENTS, destroyed: 0, unsettled: 0 });
        await expect(connect(addressOf(server))).rejects.toMatchObject({
          code: place.transport === "unix" ? "ENOENT" : "ECONNREFUSED",
        });
      },
    );

    it("reports a refused connect as ECONNREFUSED with core's hint and the endpoint", async () => {
      const dead = await deadEndpoint(place);
      const error: SocketError = await connect(dead, { framing: framing.framing() }).then(
        () => expect.fail("connected to a dead endpoint"),
        (err: SocketError) => err,
      );
      expect(error).toMatchObject({ name: "SocketError", code: "ECONNREFUSED" });
      expect(error.hint).toBe(CORE_HINT("ECONNREFUSED", place.transport === "unix"));
      expect(error.message).toContain(dead.replace(/^\w+:\/\//, ""));
    });

    it("reports an address in use as EADDRINUSE with core's hint", async () => {
      const server = await startServer(place.listenOn(), { framing: framing.framing() });
      const error: SocketError = await startServer(addressOf(server), {}).then(
        () => expect.fail("listened twice on one address"),
        (err: SocketError) => err,
      );
      expect(error).toMatchObject({ name: "SocketError", code: "EADDRINUSE" });
      expect(error.hint).toBe(CORE_HINT("EADDRINUSE", place.transport === "unix"));
      // The first server is untouched.
      await startClient(addressOf(server), { framing: framing.framing() });
      const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
      expect(accepted.done).toBe(false);
    });

    it("ends a connection that receives an oversize frame with the coded error on both sides; others go on", async () => {
      const LIMIT = 1_024;
      const failures: unknown[] = [];
      const server = await startServer(place.listenOn(), {
        framing: framing.framing(LIMIT),
        handler: async (connection) => {
          try {
            await echo(connection);
          } catch (err) {
            failures.push(err);
          }
        },
      });
      const good = await startClient(addressOf(server), { framing: framing.framing(LIMIT) });
      const bad = await startClient(addressOf(server), { framing: framing.framing(1024 * 1024) });

      // The sender's own limit is checked before anything is written.
      await expect(good.send(framing.message(LIMIT + 1, 1))).rejects.toMatchObject({
        code: "ERR_FRAME_TOO_LARGE",
      });
      expect(good.stats.bytesSent).toBe(0);

      void bad.send(framing.message(256 * 1024, 2)).catch(() => {});
      const badSide = await within(drain(bad), "the bad connection to end");
      expect(badSide.error).toMatchObject({ name: "SocketError" });
      expect(["ECONNRESET", "EPIPE"]).toContain((badSide.error as SocketError).code);
      await within(bad.closed, "the bad connection to close");
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ code: "ERR_FRAME_TOO_LARGE" });

      await good.send(framing.numbered(5, 16));
      const reply = await within(good[Symbol.asyncIterator]().next(), "an echo");
      expect(framing.indexOf(reply.value)).toBe(5);
    });

    it("reports a peer destroyed abruptly as ECONNRESET and keeps serving others", async () => {
      const failures: unknown[] = [];
      let seen = () => {};
      const failed = new Promise<void>((resolve) => {
        seen = resolve;
      });
      const server = await startServer(place.listenOn(), {
        framing: framing.framing(),
        handler: async (connection) => {
          // A greeting bigger than the socket buffers, so the peer leaves some of it unread.
          for (let i = 0; i < 16; i++) void connection.send(framing.message(60_000, i));
          try {
            await echo(connection);
          } catch (err) {
            failures.push(err);
            seen();
          }
        },
      });
      const endpoint = server.endpoint;
      const raw =
        endpoint.transport === "unix"
          ? net.connect({ path: endpoint.path })
          : net.connect({ host: endpoint.host, port: endpoint.port });
      raw.on("error", () => {});
      const accepted = nextEvent(server, "connection");
      raw.pause();
      await within(once(raw, "connect"), "the raw connect");
      if (endpoint.transport === "tls") {
        // The server hands out a connection once its handshake is done: do it over `raw`.
        const secure = tls.connect({ socket: raw, ca: CERTIFICATE.cert, servername: "localhost" });
        secure.on("error", () => {});
        secure.pause();
        await within(once(secure, "secureConnect"), "the TLS handshake");
      }
      await accepted;
      // TCP: send RST. Unix sockets have no RST; closing with unread data resets the peer.
      if (endpoint.transport !== "unix") raw.resetAndDestroy();
      else raw.destroy();

      await within(failed, "the server to see the reset");
      expect(failures[0]).toMatchObject({ name: "SocketError", code: "ECONNRESET" });

      const client = await startClient(addressOf(server), { framing: framing.framing() });
      const greeting = client[Symbol.asyncIterator]();
      for (let i = 0; i < 16; i++) await within(greeting.next(), "the greeting");
      await client.send(framing.numbered(9, 16));
      expect(framing.indexOf((await within(greeting.next(), "an echo")).value)).toBe(9);
    });

    it("retries a refused connect with backoff, counting attempts in the trace, until aborted", async () => {
      const dead = await deadEndpoint(place);
      const options = { framing: framing.framing(), backoff: { initialMs: 1, maxMs: 4 } };

      const retried = recorder();
      await expect(
        connect(dead, { ...options, retries: 3, trace: retried.trace }),
      ).rejects.toMatchObject({
        code: "ECONNREFUSED",
      });
      expect(retried.count("connect")).toBe(4);
      expect(retried.count("socket")).toBe(4);

      // Aborted while connecting for the second time.
      const controller = new AbortController();
      const aborted = recorder();
      const trace = (event: Parameters<typeof aborted.trace>[0]) => {
        aborted.trace(event);
        if (event.type === "connect" && aborted.count("connect") === 2) controller.abort();
      };
      const error = await connect(dead, {
        ...options,
        retries: 100,
        trace,
        signal: controller.signal,
      }).catch((err: unknown) => err);
      // Node's convention: the signal's reason, here the DOMException abort() makes.
      expect(error).toBe(controller.signal.reason);
      expect(error).toMatchObject({ name: "AbortError" });
      expect(aborted.count("connect")).toBe(2);

      // Aborted while waiting a minute between attempts.
      const waiting = new AbortController();
      const slow = recorder();
      const connecting = connect(dead, {
        ...options,
        retries: 1,
        backoff: { initialMs: 60_000 },
        trace: slow.trace,
        signal: waiting.signal,
      });
      const reason = new Error("user gave up");
      setTimeout(() => waiting.abort(reason), 20);
      await expect(within(connecting, "the abort")).rejects.toBe(reason);
      expect(slow.count("connect")).toBe(1);

      // Aborted before it starts: no attempt at all.
      const before = recorder();
      await expect(
        connect(dead, { ...options, trace: before.trace, signal: AbortSignal.abort() }),
      ).rejects.toMatchObject({ name: "AbortError" });
      expect(before.count("connect")).toBe(0);
    });

    it("coalesces 1,000 same-tick sends of 100 bytes into a few writes", async () => {
      const server = await startServer(place.listenOn(), { framing: framing.framing() });
      const { trace, events, count } = recorder();
      const client = await startClient(addressOf(server), { framing: framing.framing(), trace });
      const accepted = await within(server[Symbol.asyncIterator]().next(), "accept");
      const reader = accepted.value as Connection<unknown>;
      const bytes = 100 - framing.framing().encode(framing.message(0, 0)).length;

      for (let i = 0; i < 1_000; i++) void client.send(framing.numbered(i, bytes));
      // A loop that awaits each send() is coalesced as well: it runs in one tick until the
      // high-water mark is reached.
      for (let i = 1_000; i < 2_000; i++) await client.send(framing.numbered(i, bytes));
      await client.end();

      const { messages, error } = await within(drain(reader), "2,000 messages");
      expect(error).toBeUndefined();
      expect(messages.map(framing.indexOf)).toEqual(messages.map((_, i) => i));
      expect(client.stats.bytesSent).toBe(200_000);
      const sends = events.filter((event) => event.type === "send");
      expect(sends.reduce((sum, event) => sum + event.bytes, 0)).toBe(200_000);
      expect(count("send")).toBeLessThanOrEqual(10);
    });

    it("traces socket, bind, listen, accept, connect, send, recv, shutdown and close", async () => {
      const serverTrace = recorder();
      const clientTrace = recorder();
      const server = await startServer(place.listenOn(), {
        framing: framing.framing(),
        trace: serverTrace.trace,
        handler: echo,
      });
      expect(serverTrace.events.map((event) => event.type)).toEqual(["socket", "bind", "listen"]);
      const client = await startClient(addressOf(server), {
        framing: framing.framing(),
        trace: clientTrace.trace,
      });
      await client.send(framing.numbered(1, 16));
      await client.end();
      await within(drain(client), "the echo");
      await within(client.closed, "close");
      await within(server.close(), "the server to close");

      // Over TLS the handshake comes between connect (accept) and the first message.
      const handshake = place.transport === "tls" ? (["handshake"] as const) : [];
      expect(clientTrace.events.map((event) => event.type)).toEqual([
        "socket",
        "connect",
        ...handshake,
        "send",
        "shutdown",
        "recv",
        "recv",
        "close",
      ]);
      const sent = clientTrace.events.find((event) => event.type === "send");
      expect(sent).toMatchObject({ bytes: client.stats.bytesSent });
      // The last recv returned 0: the server shut its side down, the end of the stream.
      expect(clientTrace.events.at(-2)).toMatchObject({ type: "recv", bytes: 0 });
      // One socket, one descriptor, on every call of the client.
      const clientFd = clientTrace.events[0]?.fd;
      expect(clientFd).toBeGreaterThan(2);
      for (const event of clientTrace.events) expect(event.fd).toBe(clientFd);

      const types = serverTrace.events.map((event) => event.type);
      expect(types.slice(0, 4 + handshake.length)).toEqual([
        "socket",
        "bind",
        "listen",
        "accept",
        ...handshake,
      ]);
      for (const { events } of handshake.length > 0 ? [serverTrace, clientTrace] : []) {
        expect(events.find((event) => event.type === "handshake")).toMatchObject({
          protocol: "TLSv1.3",
          cipher: expect.stringMatching(/^TLS_/),
        });
      }
      for (const type of ["recv", "send", "shutdown", "close"] as const) {
        expect(types).toContain(type);
      }
      // accept(3) = 4: the listening socket hands back a new one, and the conversation is on it;
      // the listening socket is closed last.
      const [socket, , , accept] = serverTrace.events;
      const listening = socket?.fd;
      expect(listening).toBeGreaterThan(2);
      expect(accept).toMatchObject({ type: "accept", fd: listening });
      const accepted = accept?.type === "accept" ? accept.newFd : undefined;
      expect(accepted).toBeGreaterThan(2);
      expect(accepted).not.toBe(listening);
      for (const event of serverTrace.events.slice(4, -1)) expect(event.fd).toBe(accepted);
      expect(serverTrace.events.at(-1)).toEqual({ type: "close", fd: listening });
      expect(serverTrace.events).toContainEqual({ type: "recv", bytes: 0, fd: accepted });
    });

    it("tells both endpoints and counts bytes and messages on both sides", async () => {
      let serverSide!: Connection<unknown>;
      const server = await startServer(place.listenOn(), {
        framing: framing.framing(),
        handler: async (connection) => {
          serverSide = connection;
          await echo(connection);
        },
      });
      if (server.endpoint.transport === "tcp") expect(server.endpoint.port).toBeGreaterThan(0);
      const client = await startClient(addressOf(server), { framing: framing.framing() });
      for (let i = 0; i < 3; i++) await client.send(framing.numbered(i, 50));
      await client.end();
      await within(drain(client), "the echoes");

      expect(client.remote).toEqual(server.endpoint);
      expect(serverSide.local).toEqual(server.endpoint);
      expect(serverSide.remote).toEqual(client.local);
      expect(client.stats).toEqual({
        bytesSent: client.stats.bytesReceived,
        bytesReceived: serverSide.stats.bytesSent,
        messagesSent: 3,
        messagesReceived: 3,
      });
      expect(serverSide.stats).toMatchObject({ messagesSent: 3, messagesReceived: 3 });
      expect(serverSide.stats.bytesReceived).toBe(client.stats.bytesSent);
      expect(client.bufferedBytes).toBe(0);
    });
  });
});
