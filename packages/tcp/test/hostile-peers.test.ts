/**
 * Hostile peers against a server's shared resources, on real sockets: memory (the server-wide
 * budget for partial messages and unsent replies), fairness (a flood of tiny messages yields to
 * the other connections), connection slots (per address, minimum data rate, frame deadlines
 * that run from a length header and while the peer does not read), and a quick close.
 * Each test states the bound it proves.
 */

import { once } from "node:events";
import net from "node:net";
import type { SocketError } from "@socket-lab/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type Connection,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_MESSAGES_PER_TURN,
  DEFAULT_MIN_DATA_RATE,
  DEFAULT_MIN_DATA_RATE_GRACE_MS,
  type DropInfo,
  lengthPrefixed,
  type RejectInfo,
  type Server,
} from "../src/index.js";
import {
  addressOf,
  echoRecording,
  fakeClockFailure,
  startClient,
  startServer,
  until,
  within,
} from "./_sockets.js";

afterEach(() => {
  vi.useRealTimers();
});

const MiB = 1024 * 1024;

/** Raw TCP sockets to `server`, as a hostile client opens them; destroyed when the test ends. */
const raws: net.Socket[] = [];
afterEach(() => {
  for (const socket of raws.splice(0)) socket.destroy();
});

async function rawSocket(server: Server<unknown>, allowHalfOpen = false): Promise<net.Socket> {
  const { endpoint } = server;
  if (endpoint.transport !== "tcp") throw new Error("tcp only");
  const socket = net.connect({ host: endpoint.host, port: endpoint.port, allowHalfOpen });
  raws.push(socket);
  socket.on("error", () => {});
  await within(once(socket, "connect"), "connect");
  return socket;
}

/** A length header announcing `bytes` bytes of payload. */
function header(bytes: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(bytes);
  return buffer;
}

/**
 * Counts the turns of the event loop (each runs one setImmediate callback of this counter) and
 * how many times `count()` was called in each; stopped with `stop()`.
 */
function countTurns() {
  let turn = 0;
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const perTurn = new Map<number, number>();
  return {
    count: () => perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1),
    most: () => Math.max(...perTurn.values()),
    stop: () => {
      ticking = false;
    },
  };
}

/** Sends `count` lines and checks each echo, one round trip at a time. */
async function pingPong(client: Connection<string>, count: number): Promise<string[]> {
  const replies = client[Symbol.asyncIterator]();
  const got: string[] = [];
  for (let n = 0; n < count; n++) {
    await client.send(`ping ${n}`);
    got.push((await within(replies.next(), `echo ${n}`)).value as string);
  }
  return got;
}

describe("memory: a server-wide budget for partial messages and unsent replies", () => {
  it("8 peers that each start a 1 MiB frame and stall after 300 KiB: the server keeps at most its 1 MiB budget, dropping the biggest; a normal client is served", async () => {
    const drops: DropInfo[] = [];
    const server = await startServer(":0", {
      framing: lengthPrefixed(),
      maxBufferedBytes: MiB,
      handler: echoRecording([]),
    });
    server.on("drop", (info) => drops.push(info));
    const peers = await Promise.all(Array.from({ length: 8 }, () => rawSocket(server)));
    const resets = peers.map(
      (peer) => new Promise((resolve) => peer.once("close", () => resolve(peer.destroyed))),
    );
    for (const peer of peers) peer.write(Buffer.concat([header(MiB), Buffer.alloc(300 * 1024)]));
    // 2.4 MB announced in partial frames, against a 1 MiB budget: at most 3 peers fit.
    await until(() => drops.length >= 5, "5 of the 8 peers to be dropped");
    expect(drops.every(({ reason }) => reason === "max-buffered-bytes")).toBe(true);
    expect(drops[0]?.error).toMatchObject({
      code: "ERR_BUFFER_BUDGET",
      message: expect.stringMatching(/budget of 1,048,576 bytes .* held the most/),
    });
    expect(server.stats.dropped).toBe(drops.length);
    await within(Promise.race(resets), "a dropped peer's socket to close");
    // The server still serves a well-behaved client in full.
    const client = await startClient(addressOf(server), { framing: lengthPrefixed() });
    const replies = client[Symbol.asyncIterator]();
    for (let n = 0; n < 20; n++) {
      await client.send(Buffer.from(`frame ${n}`));
      expect(String((await within(replies.next(), "an echo")).value)).toBe(`frame ${n}`);
    }
  });

  it("peers that never read get two 4 MiB frames echoed: replies held for them count, and the biggest holders are dropped", async () => {
    const drops: DropInfo[] = [];
    const server = await startServer(":0", {
      framing: lengthPrefixed(),
      maxBufferedBytes: 8 * MiB,
      idleTimeoutMs: 60_000,
      handler: echoRecording([]),
    });
    server.on("drop", (info) => drops.push(info));
    const frame = Buffer.concat([header(4 * MiB), Buffer.alloc(4 * MiB, 1)]);
    // Each peer sends two whole frames and never reads: one echo waits unsent, one is queued.
    const peers = await Promise.all(Array.from({ length: 6 }, () => rawSocket(server)));
    for (const peer of peers) {
      peer.pause();
      peer.write(frame);
      peer.write(frame);
    }
    // 6 × up to 8 MiB against 8 MiB: most of them must go; without the budget none would.
    await until(() => drops.length >= 3, "3 of the 6 non-readers to be dropped");
    expect(drops.every(({ reason }) => reason === "max-buffered-bytes")).toBe(true);
  });

  it("defaults to 64 MiB (DEFAULT_MAX_BUFFERED_BYTES)", () => {
    expect(DEFAULT_MAX_BUFFERED_BYTES).toBe(64 * MiB);
  });
});

describe("fairness: a flood of tiny messages yields between batches", () => {
  it("a peer flooding empty lines is handled at most maxMessagesPerTurn (64) per turn of the event loop; a well-behaved client is answered in between", async () => {
    const turns = countTurns();
    let floodHandled = 0;
    let floodHandledAtFirstPing = -1;
    const server = await startServer(":0", {
      maxMessagesPerTurn: 64,
      handler: async (connection) => {
        for await (const line of connection) {
          if (line === "") {
            floodHandled++;
            turns.count();
          } else if (floodHandledAtFirstPing < 0) {
            floodHandledAtFirstPing = floodHandled;
          }
          connection.write(line);
        }
      },
    });
    try {
      const flooder = await rawSocket(server);
      flooder.resume(); // reads (and drops) the 1-byte echoes
      const burst = Buffer.alloc(64 * 1024, "\n"); // 65,536 empty lines
      let floods = 0;
      const flood = () => {
        while (floods < 8 && flooder.write(burst)) floods++;
        if (floods < 8) flooder.once("drain", flood);
      };
      flood();
      await until(() => floodHandled > 0, "the flood to start");
      const client = await startClient<string>(addressOf(server), {});
      const got = await within(pingPong(client, 20), "20 round trips during the flood");
      expect(got).toEqual(Array.from({ length: 20 }, (_, n) => `ping ${n}`));
      // Served while the flood was still being handled, not after all of it.
      expect(floodHandledAtFirstPing).toBeLessThan(8 * 65_536);
      await until(() => floodHandled === 8 * 65_536, "the whole flood to be handled");
      // Without the cap one read's 65,536 lines are handled in a single turn. A turn of the
      // loop polls for I/O once (the read: 1 line to the waiting loop, then a batch) and runs
      // its setImmediate callbacks once (a batch): at most 2 × 64 + 1 lines.
      expect(turns.most()).toBeLessThanOrEqual(2 * 64 + 1);
    } finally {
      turns.stop();
    }
  });

  it("each() yields the same way", async () => {
    const turns = countTurns();
    let handled = 0;
    const server = await startServer(":0", {
      maxMessagesPerTurn: 100,
      handler: (connection) =>
        connection.each(() => {
          handled++;
          turns.count();
        }),
    });
    try {
      const flooder = await rawSocket(server);
      flooder.write(Buffer.alloc(64 * 1024, "\n"));
      await until(() => handled === 65_536, "65,536 empty lines to be handled");
      expect(turns.most()).toBeLessThanOrEqual(2 * 100);
    } finally {
      turns.stop();
    }
  });

  it("defaults to 1,024 messages per turn (DEFAULT_MAX_MESSAGES_PER_TURN)", () => {
    expect(DEFAULT_MAX_MESSAGES_PER_TURN).toBe(1_024);
  });
});

describe("connection slots", () => {
  it("maxConnectionsPerAddress: the 4th connection from 127.0.0.1 is turned away, and a slot freed is taken again", async () => {
    const rejects: RejectInfo[] = [];
    const server = await startServer(":0", {
      maxConnectionsPerAddress: 3,
      handler: echoRecording([]),
    });
    server.on("reject", (info) => rejects.push(info));
    const first = await Promise.all(Array.from({ length: 3 }, () => rawSocket(server)));
    await until(() => server.stats.accepted === 3, "3 accepts");
    const fourth = await rawSocket(server);
    await within(once(fourth, "close"), "the 4th to be closed");
    expect(rejects).toMatchObject([{ reason: "max-connections-per-address" }]);
    expect(server.stats).toMatchObject({ accepted: 3, rejected: 1 });
    first[0]?.destroy();
    await until(() => server.connectionCount === 2, "the first to close");
    await rawSocket(server);
    await until(() => server.stats.accepted === 4, "a 4th accept");
    expect(server.connectionCount).toBe(3);
  });

  it("holds at most 256 connections from one address by default (DEFAULT_MAX_CONNECTIONS_PER_ADDRESS)", async () => {
    expect(DEFAULT_MAX_CONNECTIONS_PER_ADDRESS).toBe(256);
    const server = await startServer(":0", {});
    const rejects: RejectInfo[] = [];
    server.on("reject", (info) => rejects.push(info));
    await Promise.all(Array.from({ length: 257 }, () => rawSocket(server)));
    await until(() => server.stats.accepted + server.stats.rejected === 257, "257 connections");
    expect(server.stats).toMatchObject({ accepted: 256, rejected: 1 });
    expect(rejects).toMatchObject([{ reason: "max-connections-per-address" }]);
  });

  it("minDataRate: 6 peers that hold every slot by finishing a line just inside frameTimeoutMs are dropped, and a newcomer gets in", async () => {
    const drops: DropInfo[] = [];
    const ends: unknown[] = [];
    const server = await startServer(":0", {
      maxConnections: 6,
      frameTimeoutMs: 2_000,
      minDataRate: 200,
      minDataRateGraceMs: 300,
      handler: echoRecording(ends),
    });
    server.on("drop", (info) => drops.push(info));
    const lorises = await Promise.all(Array.from({ length: 6 }, () => rawSocket(server)));
    await until(() => server.connectionCount === 6, "every slot taken");
    // Each loris finishes a 30-byte line every ~1.2 s (25 bytes/s): inside the 2 s deadline.
    let trickling = true;
    const trickles = lorises.map(async (loris) => {
      for (let i = 0; trickling && !loris.destroyed && i < 2_000; i++) {
        loris.write(i % 30 === 29 ? "\n" : "a");
        // Pacing is the attack being simulated, not a wait for something to happen.
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    });
    try {
      const newcomer = await rawSocket(server);
      await within(once(newcomer, "close"), "the newcomer to be turned away while full");
      await until(() => drops.length === 6, "the 6 lorises to be dropped");
      expect(drops.every(({ reason }) => reason === "min-data-rate")).toBe(true);
      await until(() => ends.length === 6, "their handlers to end");
      expect(ends[0]).toMatchObject({
        code: "ERR_TIMEOUT",
        message: expect.stringMatching(
          /bytes of a line in \d+ ms, under the minimum of 200 bytes\/s/,
        ),
      });
      const client = await startClient<string>(addressOf(server), {});
      expect(await within(pingPong(client, 3), "the newcomer's echoes")).toHaveLength(3);
      expect(server.stats).toMatchObject({ dropped: 6 });
    } finally {
      trickling = false;
      await Promise.all(trickles);
    }
  });

  it("the frame deadline runs while the server does not read because the peer does not read its replies", async () => {
    const ends: unknown[] = [];
    const server = await startServer(":0", {
      framing: lengthPrefixed({ maxFrameBytes: 64 * MiB }),
      frameTimeoutMs: 300,
      minDataRate: 0,
      idleTimeoutMs: 60_000,
      maxBufferedBytes: 256 * MiB,
      handler: async (connection) => {
        try {
          // Each request is answered with 32 MiB, more than the kernel buffers hold.
          for await (const _ of connection) await connection.send(Buffer.alloc(32 * MiB));
          ends.push("end");
        } catch (error) {
          ends.push(error);
        }
      },
    });
    const peer = await rawSocket(server);
    peer.pause(); // never reads the replies
    // Two whole requests (the second waits in the queue, so the socket is paused) and the
    // start of a third, in one write.
    peer.write(Buffer.concat([header(1), Buffer.of(1), header(1), Buffer.of(2), header(10)]));
    await until(() => ends.length === 1, "the handler to end");
    expect(ends[0]).toMatchObject({
      code: "ERR_TIMEOUT",
      message: expect.stringMatching(
        /sent 0 bytes of a frame and did not finish it within 300 ms while it left [\d,]+ bytes of our replies unread/,
      ),
    });
  });

  it("holds a started message to 512 bytes/s once it is 5 s old (DEFAULT_MIN_DATA_RATE, DEFAULT_MIN_DATA_RATE_GRACE_MS)", async () => {
    expect(DEFAULT_MIN_DATA_RATE).toBe(512);
    expect(DEFAULT_MIN_DATA_RATE_GRACE_MS).toBe(5_000);
    const server = await startServer(":0", {});
    const peer = await rawSocket(server);
    const accepted = (await within(server[Symbol.asyncIterator]().next(), "accept"))
      .value as Connection<string>;
    const { openBefore, error } = await fakeClockFailure(accepted, peer, 5_000);
    expect(openBefore).toBe(true);
    expect(error).toMatchObject({ code: "ERR_TIMEOUT" });
    expect((error as SocketError).message).toMatch(
      /sent 19 bytes of a line in 5000 ms, under the minimum of 512 bytes\/s/,
    );
  });
});

describe("a quick close", () => {
  it("close() right after destroy() settles (a destroyed socket never calls end()'s callback)", async () => {
    const server = await startServer(":0", {});
    await rawSocket(server);
    const accepted = (await within(server[Symbol.asyncIterator]().next(), "accept"))
      .value as Connection<string>;
    accepted.destroy();
    await within(accepted.close(), "close() after destroy()");
  });

  it("close() after destroy() settles, with replies still unsent to a peer that does not read", async () => {
    const server = await startServer(":0", {
      framing: lengthPrefixed({ maxFrameBytes: 64 * MiB }),
    });
    const peer = await rawSocket(server);
    peer.pause();
    const accepted = (await within(server[Symbol.asyncIterator]().next(), "accept"))
      .value as Connection<Buffer>;
    const sending = accepted.send(Buffer.alloc(32 * MiB));
    expect(accepted.bufferedBytes).toBeGreaterThan(0);
    accepted.destroy();
    // The socket fails its pending writes on the next tick, and emits 'close' later still: a
    // close() in between once waited for an end() callback that never came.
    await new Promise((resolve) => process.nextTick(resolve));
    expect(accepted.stats.bytesSent).toBeGreaterThan(0);
    let closed = false;
    void accepted.closed.then(() => {
      closed = true;
    });
    expect(closed).toBe(false);
    await within(accepted.close(), "close() after destroy()");
    await expect(sending).rejects.toMatchObject({ code: "ERR_SOCKET_CLOSED" });
  });

  it("server.close() with a non-reading line client: the handler's close() after the deadline's destroy() settles", async () => {
    const handlers: Promise<void>[] = [];
    const server = await startServer(":0", {
      handler: (connection) => {
        const serving = (async () => {
          try {
            for await (const line of connection) await connection.send(line);
          } catch {
            // the close's deadline destroys a connection stuck in send()
          } finally {
            await connection.close();
          }
        })();
        handlers.push(serving);
        return serving;
      },
    });
    const nonReader = await rawSocket(server);
    nonReader.pause();
    const line = Buffer.from(`${"x".repeat(999)}\n`);
    for (let i = 0; i < 20_000 && nonReader.write(line); i++);
    await until(() => server.stats.accepted === 1 && handlers.length === 1, "the handler to start");
    // Sure to be stuck: 20 MB of lines echoed to a peer that reads none of them.
    for (let i = 0; i < 20_000; i++) nonReader.write(line);
    await within(server.close({ timeoutMs: 200 }), "the server's close");
    await within(Promise.all(handlers), "the handler to finish its close");
  });

  it("server.close() ends idle and non-reading peers at its deadline, and every handler's own close settles", async () => {
    const handlers: Promise<void>[] = [];
    let stuckInSend = false;
    const server = await startServer(":0", {
      framing: lengthPrefixed({ maxFrameBytes: 64 * MiB }),
      handler: (connection) => {
        const serving = (async () => {
          try {
            for await (const _ of connection) {
              const sending = connection.send(Buffer.alloc(32 * MiB));
              stuckInSend = connection.bufferedBytes > 0;
              await sending;
            }
          } catch {
            // the close's deadline destroys a connection stuck in send()
          } finally {
            await connection.close();
          }
        })();
        handlers.push(serving);
        return serving;
      },
    });
    // Like nc: connected, says nothing, and does not close when the server ends its side.
    const idle = await rawSocket(server, true);
    const nonReader = await rawSocket(server);
    nonReader.pause();
    nonReader.write(Buffer.concat([header(1), Buffer.of(1)]));
    await until(() => handlers.length === 2 && stuckInSend, "the non-reader's reply to back up");
    expect(idle.destroyed).toBe(false);
    const result = await within(server.close({ timeoutMs: 200 }), "the server's close");
    expect(result).toEqual({ ended: 0, destroyed: 2, unsettled: 0 });
    await within(Promise.all(handlers), "every handler to finish its close");
  });
});
