import { ErrorCode, type InetEndpoint } from "@socket-lab/core";
import { describe, expect, test } from "vitest";
import {
  connect,
  encodeSegment,
  encodeSegments,
  listen,
  type ReliableConnection,
  type ReliableServer,
  SegmentType,
  wrapSeq,
} from "../src/index.js";
import { echoServer, FAST, handshake, type RawPeer, rawPeer, until } from "./_peers.js";

/** A server, a hand-made client connected to it, and the connection the server accepted. */
async function setup(sendWindow?: number) {
  const server = await listen("udp://127.0.0.1:0", {
    ...FAST,
    ...(sendWindow ? { sendWindow } : {}),
  });
  const peer = await rawPeer();
  const connId = 0x1234_5678;
  const numbers = await handshake(peer, server.endpoint, connId);
  const accepted = await (async () => {
    for await (const c of server) return c;
  })();
  if (accepted === undefined) throw new Error("not accepted");
  await until(() => accepted.state === "ESTABLISHED", "ESTABLISHED");
  return {
    server,
    peer,
    connId,
    accepted,
    ...numbers,
    // The raw client never closes: reset what is left after a short wait.
    [Symbol.asyncDispose]: async () => {
      await Promise.all([server.close({ timeoutMs: 50 }), peer.close()]);
    },
  };
}

/** The accepted connection still works: the raw client sends message 0 and gets it acknowledged. */
async function stillWorks(s: {
  peer: RawPeer;
  server: ReliableServer;
  connId: number;
  isn: number;
  serverIsn: number;
  accepted: ReliableConnection;
}) {
  s.peer.send(
    { type: SegmentType.DATA, connId: s.connId, seq: s.isn, ack: s.serverIsn },
    s.server.endpoint,
    Buffer.from("still here"),
  );
  for await (const message of s.accepted) {
    expect(message.toString()).toBe("still here");
    break;
  }
  await until(
    () => s.peer.received.some((r) => r.type === SegmentType.ACK && r.ack === wrapSeq(1, s.isn)),
    "the ACK of message 0",
  );
}

describe("loss recovery", () => {
  test("a tail-loss probe sends two datagrams (RFC 9002 6.2.4), so one lost probe is not an RTO", async () => {
    await using s = await setup();
    const { peer, accepted, connId, isn, serverIsn } = s;
    const data = (seq: number) =>
      peer.received.filter((r) => r.type === SegmentType.DATA && r.seq === wrapSeq(seq, serverIsn));
    accepted.write("m0");
    await until(() => data(0).length > 0, "message 0");
    // Acknowledge message 0 with its timestamp echoed: an RTT sample, so probes come before the RTO.
    peer.send(
      {
        type: SegmentType.ACK,
        connId,
        seq: isn,
        ack: wrapSeq(1, serverIsn),
        echo: data(0)[0]?.timestamp,
      },
      s.server.endpoint,
    );
    await until(() => accepted.stats.inFlight === 0, "message 0 acknowledged");
    // Message 1 is never acknowledged: the probe sends it twice, in two datagrams.
    accepted.write("m1");
    await until(() => accepted.stats.tailLossProbes >= 1, "a tail-loss probe");
    await until(() => data(1).length >= 3, "two probe copies of message 1");
    const stats = accepted.stats;
    expect(stats.tailLossProbes).toBe(1);
    expect(stats.retransmissions - stats.timeouts).toBe(2 * stats.tailLossProbes);
  });
});

describe("acknowledgements", () => {
  test("the segments of one packed datagram, out of order, get one ACK with their SACK range", async () => {
    await using s = await setup();
    const { peer, connId, isn, serverIsn } = s;
    // Messages 1, 2, 3 packed in one datagram; message 0 is missing.
    const segment = (n: number) => ({
      header: {
        type: SegmentType.DATA,
        connId,
        seq: wrapSeq(n, isn),
        ack: serverIsn,
        window: 64,
        timestamp: 1,
        echo: 0,
        sack: [],
      },
      payload: Buffer.from(`m${n}`),
    });
    const before = peer.received.length;
    peer.sendBytes(encodeSegments([segment(1), segment(2), segment(3)]), s.server.endpoint);
    const acks = () =>
      peer.received.slice(before).filter((r) => r.type === SegmentType.ACK && r.sack.length > 0);
    await until(() => acks().length > 0, "an ACK with SACK ranges");
    // The first (and only) one covers all three: no ACK went out per segment.
    expect(acks()[0]?.sack).toEqual([{ start: wrapSeq(1, isn), end: wrapSeq(4, isn) }]);
    expect(acks()[0]?.ack).toBe(wrapSeq(0, isn));
  });
});

describe("hostile or broken input is dropped and counted", () => {
  test("an ACK for data never sent", async () => {
    await using s = await setup();
    s.peer.send(
      { type: SegmentType.ACK, connId: s.connId, seq: s.isn, ack: wrapSeq(50, s.serverIsn) },
      s.server.endpoint,
    );
    await until(() => s.accepted.stats.invalidAcks === 1, "invalidAcks");
    await stillWorks(s);
  });

  test("SACK ranges outside the window", async () => {
    await using s = await setup();
    await s.accepted.send("one");
    await until(
      () => s.peer.received.some((r) => r.type === SegmentType.DATA),
      "the server's DATA",
    );
    s.peer.send(
      {
        type: SegmentType.ACK,
        connId: s.connId,
        seq: s.isn,
        ack: s.serverIsn,
        sack: [
          { start: wrapSeq(5, s.serverIsn), end: wrapSeq(9, s.serverIsn) }, // never sent
          { start: wrapSeq(1, s.serverIsn), end: wrapSeq(0, s.serverIsn) }, // reversed
          { start: 0, end: 0xffff_ffff }, // everything
        ],
      },
      s.server.endpoint,
    );
    await until(() => s.accepted.stats.invalidSacks === 3, "invalidSacks");
    expect(s.accepted.stats.inFlight).toBe(1);
    await stillWorks(s);
  });

  test("a huge advertised window is clamped to sendWindow", async () => {
    await using s = await setup(64);
    s.peer.send(
      { type: SegmentType.ACK, connId: s.connId, seq: s.isn, ack: s.serverIsn, window: 0xffff },
      s.server.endpoint,
    );
    await until(() => s.accepted.stats.clampedWindows >= 1, "clampedWindows");
    expect(s.accepted.stats.peerWindow).toBe(64);
  });

  test("replayed handshakes: a SYN or SYN_ACK on an open connection, a SYN for a closed one", async () => {
    await using s = await setup();
    const synAcks = () => s.peer.received.filter((r) => r.type === SegmentType.SYN_ACK).length;
    s.peer.send({ type: SegmentType.SYN, connId: s.connId, seq: s.isn }, s.server.endpoint);
    s.peer.send({ type: SegmentType.SYN_ACK, connId: s.connId, seq: 1 }, s.server.endpoint);
    await until(() => s.accepted.stats.replayedHandshakes === 2, "replayedHandshakes");
    await stillWorks(s);
    // Reset by the client, then the same SYN again: the id is remembered, nothing reopens.
    s.peer.send({ type: SegmentType.RST, connId: s.connId }, s.server.endpoint);
    await until(() => s.server.connectionCount === 0, "the reset");
    // Counted once the connection is gone: before that, a busy machine may let the server's
    // SYN_ACK timer fire (a retransmission, not an answer to a replay).
    const before = synAcks();
    s.peer.send({ type: SegmentType.SYN, connId: s.connId, seq: s.isn }, s.server.endpoint);
    await until(() => s.server.stats.staleConnection === 1, "staleConnection");
    expect(s.server.connectionCount).toBe(0);
    expect(synAcks()).toBe(before);
  });

  test("datagrams from another source, or for another connection id", async () => {
    await using s = await setup();
    const stranger = await rawPeer();
    stranger.send(
      { type: SegmentType.DATA, connId: s.connId, seq: s.isn, ack: s.serverIsn },
      s.server.endpoint,
      Buffer.from("spoof"),
    );
    s.peer.send(
      { type: SegmentType.DATA, connId: 999, seq: s.isn, ack: s.serverIsn },
      s.server.endpoint,
      Buffer.from("who"),
    );
    await until(
      () => s.server.stats.wrongSource === 1 && s.server.stats.unknownConnection === 1,
      "the drops",
    );
    expect(s.accepted.stats.segmentsReceived).toBe(1); // the handshake's ACK only
    await stillWorks(s);
    await stranger.close();
  });

  test("truncated headers and junk", async () => {
    await using s = await setup();
    const good = encodeSegment({
      type: SegmentType.ACK,
      connId: s.connId,
      seq: s.isn,
      ack: s.serverIsn,
      window: 8,
      timestamp: 0,
      echo: 0,
      sack: [],
    });
    for (let length = 0; length < good.length; length += 3)
      s.peer.sendBytes(good.subarray(0, length), s.server.endpoint);
    s.peer.sendBytes(Buffer.from("GET / HTTP/1.0\r\n\r\n"), s.server.endpoint);
    await until(() => s.server.stats.invalidSegments === 11, "invalidSegments");
    await stillWorks(s);
  });

  test("a flood of junk keeps memory bounded: no connection, no state", async () => {
    const server = await listen("udp://127.0.0.1:0", FAST);
    await using _server = server;
    const peer = await rawPeer();
    for (let i = 0; i < 2_000; i++) {
      peer.send(
        { type: SegmentType.DATA, connId: i + 1, seq: i },
        server.endpoint,
        Buffer.alloc(100),
      );
    }
    await until(
      () => server.stats.unknownConnection + server.stats.invalidSegments > 0,
      "the flood to arrive",
    );
    expect(server.connectionCount).toBe(0);
    await peer.close();
  });
});

describe("maxConnections", () => {
  test("a SYN beyond it gets an RST: connect() fails with ECONNRESET; others go on", async () => {
    const { server } = await echoServer({ maxConnections: 2 });
    await using _server = server;
    const a = await connect(server.endpoint, FAST);
    const b = await connect(server.endpoint, FAST);
    await expect(connect(server.endpoint, FAST)).rejects.toMatchObject({ code: "ECONNRESET" });
    // One SYN, or more when a busy machine let its RTO pass before the RST came back.
    expect(server.stats.rejected).toBeGreaterThanOrEqual(1);
    expect(server.connectionCount).toBe(2);
    await a.send("a");
    for await (const reply of a) {
      expect(reply.toString()).toBe("a");
      break;
    }
    await Promise.all([a.close(), b.close()]);
    await until(() => server.connectionCount === 0, "both closed");
    const c = await connect(server.endpoint, FAST);
    await c.close();
  });
});

describe("connect()", () => {
  test("nothing listening: ECONNREFUSED", async () => {
    const peer = await rawPeer();
    const port = peer.port;
    await peer.close();
    await expect(connect(`udp://127.0.0.1:${port}`, FAST)).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
  });

  test("a UDP socket that never answers: ERR_TIMEOUT after connectTimeoutMs", async () => {
    const peer = await rawPeer();
    const to: InetEndpoint = { transport: "udp", host: "127.0.0.1", port: peer.port };
    await expect(connect(to, { ...FAST, connectTimeoutMs: 300 })).rejects.toMatchObject({
      code: ErrorCode.ERR_TIMEOUT,
    });
    // The SYN was sent again after each RTO.
    expect(peer.received.filter((s) => s.type === SegmentType.SYN).length).toBeGreaterThan(1);
    await peer.close();
  });

  test("an AbortSignal cancels: rejects with its reason, or ABORT_ERR without one", async () => {
    const peer = await rawPeer(); // never answers the SYN: connect() waits
    const to: InetEndpoint = { transport: "udp", host: "127.0.0.1", port: peer.port };
    const controller = new AbortController();
    const pending = connect(to, { signal: controller.signal });
    await until(() => peer.received.some((s) => s.type === SegmentType.SYN), "the SYN");
    const reason = new Error("changed my mind");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    // controller.abort(): the signal's reason is a DOMException named AbortError.
    const plain = new AbortController();
    const waiting = connect(to, { signal: plain.signal });
    plain.abort();
    await expect(waiting).rejects.toBe(plain.signal.reason);
    await expect(connect(to, { signal: plain.signal })).rejects.toMatchObject({
      name: "AbortError",
    });
    // A signal aborted with null: Node's AbortError.
    const none = new AbortController();
    const unexplained = connect(to, { signal: none.signal });
    none.abort(null);
    await expect(unexplained).rejects.toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
    // @ts-expect-error: not a signal
    await expect(connect(to, { signal: "stop" })).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "signal" option must be an instance of AbortSignal. Received type string ('stop')`,
    });
    await peer.close();
  });

  test("bad options name themselves", async () => {
    await expect(connect("udp://127.0.0.1:9", { receiveWindow: 0 })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_OUT_OF_RANGE",
      message:
        'The value of "receiveWindow" is out of range. It must be an integer >= 1 && <= 65535. Received 0',
    });
    await expect(connect("udp://127.0.0.1:9", { sendWindow: "8" as never })).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "sendWindow" option must be of type number. Received type string ('8')`,
    });
    await expect(connect("udp://127.0.0.1:9", { minCwnd: 0 })).rejects.toThrow(/minCwnd/);
    await expect(connect("tcp://127.0.0.1:9")).rejects.toMatchObject({
      code: ErrorCode.ERR_INVALID_ENDPOINT,
    });
    await expect(listen("udp://127.0.0.1:0", { maxConnections: 0 })).rejects.toThrow(
      /maxConnections/,
    );
    // @ts-expect-error: onError is a function
    await expect(listen("udp://127.0.0.1:0", { onError: "log" })).rejects.toThrow(
      /^The "onError" option must be of type function/,
    );
  });
});
