import { ErrorCode } from "@socket-lab/core";
import { describe, expect, test } from "vitest";
import { connect, DEFAULT_MAX_MESSAGE_BYTES, listen, SegmentType } from "../src/index.js";
import { echoServer, FAST, handshake, rawPeer, until } from "./_peers.js";

describe("a connection on loopback", () => {
  test("messages come back whole, in order, once; stats count them", async () => {
    const { server } = await echoServer();
    await using _server = server;
    await using connection = await connect(server.endpoint, FAST);
    expect(connection.state).toBe("ESTABLISHED");
    const sent = Array.from({ length: 500 }, (_, i) => `message ${i} `.repeat((i % 7) + 1));
    const got: string[] = [];
    const reader = (async () => {
      for await (const message of connection) {
        got.push(message.toString());
        if (got.length === sent.length) break;
      }
    })();
    for (const message of sent) await connection.send(message);
    await reader;
    expect(got).toEqual(sent);
    const stats = connection.stats;
    expect(stats.messagesSent).toBe(500);
    expect(stats.messagesReceived).toBe(500);
    expect(stats.srttMs).toBeGreaterThanOrEqual(0);
  });

  test("messages written in one go leave packed: fewer datagrams than segments, all delivered", async () => {
    const { server } = await echoServer();
    await using _server = server;
    await using connection = await connect(server.endpoint, FAST);
    const before = connection.stats;
    const count = 40;
    // 40 × 100 B in one synchronous loop: up to 13 segments fit one 1,472-byte datagram.
    for (let i = 0; i < count; i++) connection.write(Buffer.alloc(100, i));
    let got = 0;
    for await (const reply of connection) {
      expect(reply.equals(Buffer.alloc(100, got))).toBe(true);
      if (++got === count) break;
    }
    const after = connection.stats;
    const segments = after.segmentsSent - before.segmentsSent;
    const datagrams = after.datagramsSent - before.datagramsSent;
    expect(segments).toBeGreaterThanOrEqual(count);
    expect(datagrams).toBeLessThanOrEqual(segments / 2);
  });

  test("to a loopback peer data leaves in datagrams far larger than 1,472 bytes", async () => {
    // A sink: counts messages, answers only with ACKs.
    const sink = async (options: { maxDatagramBytes?: number }) => {
      await using server = await listen("udp://127.0.0.1:0", FAST);
      let got = 0;
      void (async () => {
        for await (const connection of server) {
          for await (const _ of connection) got++;
          await connection.close();
        }
      })();
      await using connection = await connect(server.endpoint, { ...FAST, ...options });
      const before = connection.stats.datagramsSent;
      for (let i = 0; i < 200; i++) {
        if (!connection.write(Buffer.alloc(1_000, i))) await connection.drain();
      }
      await until(() => got === 200, "200 messages");
      return connection.stats.datagramsSent - before;
    };
    const safe = await sink({ maxDatagramBytes: 1_472 });
    const loopback = await sink({});
    expect(safe).toBeGreaterThanOrEqual(200); // one 1,000-byte message per datagram
    expect(loopback).toBeLessThan(safe / 2);
  });

  test("maxDatagramBytes is checked", async () => {
    await expect(connect("udp://127.0.0.1:9", { maxDatagramBytes: 10 })).rejects.toThrow(
      /maxDatagramBytes/,
    );
  });

  test("close handshake: both sides FIN, the peer's loop ends, both reach CLOSED", async () => {
    const { server, connections } = await echoServer();
    await using _server = server;
    const connection = await connect(server.endpoint, FAST);
    await connection.send("bye");
    for await (const reply of connection) {
      expect(reply.toString()).toBe("bye");
      break;
    }
    await until(() => connections.length === 1, "the accepted connection");
    await connection.close();
    expect(["TIME_WAIT", "CLOSED"]).toContain(connection.state);
    await connection.closed;
    await (connections[0] as { closed: Promise<void> }).closed;
    expect(connection.state).toBe("CLOSED");
    expect(connections[0]?.state).toBe("CLOSED");
    await until(() => server.connectionCount === 0, "the server to forget it");
    expect(server.stats).toMatchObject({ accepted: 1, closed: 1 });
  });

  test("a peer that stops answering fails the connection with ERR_TIMEOUT after peerTimeoutMs", async () => {
    // A hand-made server: answers the SYN, then never acknowledges anything.
    const fake = await rawPeer();
    const to = { transport: "udp" as const, host: "127.0.0.1", port: fake.port };
    fake.socket.on("message", (data, rinfo) => {
      if (data[3] === SegmentType.SYN) {
        fake.send(
          {
            type: SegmentType.SYN_ACK,
            connId: data.readUInt32BE(4),
            seq: 77,
            ack: data.readUInt32BE(8),
          },
          { transport: "udp", host: rinfo.address, port: rinfo.port },
        );
      }
    });
    const connection = await connect(to, { ...FAST, peerTimeoutMs: 300 });
    await connection.send("anyone?");
    const failure = await (async () => {
      try {
        for await (const _ of connection) return undefined;
      } catch (error) {
        return error as { code: string; message: string };
      }
    })();
    expect(failure?.code).toBe(ErrorCode.ERR_TIMEOUT);
    expect(failure?.message).toMatch(/stopped answering/);
    expect(connection.state).toBe("CLOSED");
    expect(connection.stats.timeouts).toBeGreaterThan(0);
    await expect(connection.send("more")).rejects.toMatchObject({ code: ErrorCode.ERR_TIMEOUT });
    await fake.close();
  });

  test("an RST from the peer fails the connection with ECONNRESET", async () => {
    const server = await listen("udp://127.0.0.1:0", FAST);
    await using _server = server;
    const connection = await connect(server.endpoint, FAST);
    const [accepted] = await (async () => {
      for await (const c of server) return [c];
      return [];
    })();
    accepted?.destroy();
    await expect(
      (async () => {
        for await (const _ of connection) {
        }
      })(),
    ).rejects.toMatchObject({ code: "ECONNRESET" });
  });

  test("refuses an oversize message and sends after close", async () => {
    const { server } = await echoServer();
    await using _server = server;
    const connection = await connect(server.endpoint, FAST);
    await expect(
      connection.send(Buffer.alloc(DEFAULT_MAX_MESSAGE_BYTES + 1)),
    ).rejects.toMatchObject({
      code: ErrorCode.ERR_DATAGRAM_TOO_LARGE,
    });
    await connection.close();
    await expect(connection.send("late")).rejects.toMatchObject({
      code: ErrorCode.ERR_SOCKET_CLOSED,
    });
  });

  test("flow control: a reader that does not read closes the window; nothing is lost when it reads", async () => {
    const server = await listen("udp://127.0.0.1:0", { ...FAST, receiveWindow: 8 });
    await using _server = server;
    const connection = await connect(server.endpoint, FAST);
    const accepted = await (async () => {
      for await (const c of server) return c;
    })();
    if (accepted === undefined) throw new Error("no connection");
    for (let i = 0; i < 40; i++) connection.write(`m${i}`);
    // The receiver holds at most its window; the rest waits at the sender.
    await until(() => connection.stats.peerWindow === 0, "a closed window");
    expect(accepted.stats.messagesReceived).toBeLessThanOrEqual(8);
    expect(connection.bufferedMessages).toBeGreaterThanOrEqual(40 - 8 - 1);
    const got: string[] = [];
    for await (const message of accepted) {
      got.push(message.toString());
      if (got.length === 40) break;
    }
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
    await Promise.all([connection.close(), accepted.close()]);
  });

  test("a half-open connection (the client never ACKs) is dropped after peerTimeoutMs", async () => {
    const server = await listen("udp://127.0.0.1:0", { ...FAST, peerTimeoutMs: 200 });
    await using _server = server;
    const peer = await rawPeer();
    peer.send({ type: SegmentType.SYN, connId: 5, seq: 1 }, server.endpoint);
    await until(() => server.connectionCount === 1, "the half-open connection");
    await until(() => server.connectionCount === 0, "the half-open connection to go");
    // The SYN_ACK was sent again while it waited.
    expect(peer.received.filter((s) => s.type === SegmentType.SYN_ACK).length).toBeGreaterThan(1);
    expect(server.stats.accepted).toBe(0);
    await handshake(peer, server.endpoint, 6);
    await until(() => server.stats.accepted === 1, "a proper handshake to be accepted");
    await peer.close();
  });
});
