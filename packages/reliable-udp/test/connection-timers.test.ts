/**
 * Loss recovery and its timers, on two connections wired by hand in memory: every datagram
 * waits in a queue until the test delivers or drops it, and time is a fake clock the test
 * moves. No socket, no wall time: what is checked is what left, and when on the fake clock.
 */

import type { InetEndpoint } from "@socket-lab/core";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { Connection, resolveConnectionOptions } from "../src/connection.js";
import { decodeSegments, type Segment, SegmentType } from "../src/header.js";

const CLIENT: InetEndpoint = { transport: "udp", host: "127.0.0.1", port: 40_001 };
const SERVER: InetEndpoint = { transport: "udp", host: "127.0.0.1", port: 40_002 };
/** Each way across the pretend link, ms: an RTT of 2 ms. */
const HOP_MS = 1;
const OPTIONS = { initialRtoMs: 50, minRtoMs: 20 } as const;

/**
 * A timer's work runs in a setImmediate once it fired, after the datagrams already waiting are
 * read; the fake clock runs an immediate set during a tick 1 ms later.
 */
const afterInput = () => vi.advanceTimersByTime(1);

/** Lets the microtask that packs and sends a turn's writes run. */
const turn = () => new Promise<void>((resolve) => queueMicrotask(resolve));

/** Datagrams one side sent, not yet delivered. */
class Wire {
  readonly queue: Buffer[] = [];
  /** Every datagram ever sent this way. */
  sent = 0;

  push(datagram: Buffer): boolean {
    this.queue.push(datagram);
    this.sent++;
    return true;
  }

  /** Takes the oldest datagram, decoded. */
  take(): Segment[] {
    const datagram = this.queue.shift();
    if (datagram === undefined) throw new Error("no datagram waiting");
    return decodeSegments(datagram);
  }

  /** Drops everything waiting. */
  dropAll(): number {
    return this.queue.splice(0).length;
  }
}

/** A client and a server connection, established over the pretend link, an RTT of 2 ms. */
async function pair() {
  const settings = resolveConnectionOptions(OPTIONS, 65_507);
  const toServer = new Wire();
  const toClient = new Wire();
  const setup = (role: "client" | "server", wire: Wire) => ({
    connId: 7,
    role,
    local: role === "client" ? CLIENT : SERVER,
    remote: role === "client" ? SERVER : CLIENT,
    settings,
    transmit: (datagram: Buffer) => wire.push(datagram),
    writable: () => Promise.resolve(),
    onEstablished: () => {},
    onClosed: () => {},
  });
  const client = new Connection(setup("client", toServer));
  vi.advanceTimersByTime(HOP_MS);
  const [syn] = toServer.take();
  const server = new Connection({ ...setup("server", toClient), syn });
  vi.advanceTimersByTime(HOP_MS);
  client.receiveAll(toClient.take()); // SYN_ACK: the client's first RTT sample, 2 ms
  vi.advanceTimersByTime(HOP_MS);
  server.receiveAll(toServer.take()); // ACK
  expect([client.state, server.state]).toEqual(["ESTABLISHED", "ESTABLISHED"]);
  return { client, server, toServer, toClient };
}

type Pair = Awaited<ReturnType<typeof pair>>;

/** The data segments of a datagram: numbers relative to the first one seen. */
function dataSeqs(segments: Segment[]): number[] {
  return segments.filter((s) => s.type === SegmentType.DATA).map((s) => s.seq);
}

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "performance"],
  });
  // A timestamp of 0 on the wire means "none": start the fake clock past it.
  vi.advanceTimersByTime(1_000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("loss recovery without waiting for a timer", () => {
  test("what arrives in one turn, out of order or not, gets one ACK at the end of the turn", async () => {
    const { client, server, toServer, toClient } = await pair();
    for (let i = 0; i < 3; i++) {
      client.write(`message ${i}`);
      await turn(); // each write leaves in its own datagram
    }
    expect(toServer.queue.length).toBe(3);
    const [first, second, third] = [toServer.take(), toServer.take(), toServer.take()];
    // The third arrives first: a gap. Its ACK leaves at the end of the turn (a timer of 0),
    // with a SACK range, and no timer beyond it runs.
    server.receiveAll(third);
    expect(toClient.queue.length).toBe(0);
    vi.advanceTimersToNextTimer();
    expect(toClient.queue.length).toBe(1);
    expect(toClient.take()[0]?.sack.length).toBe(1);
    // The path held the first back and let the second overtake it; both arrive in one
    // turn: one ACK, and it shows no gap, so the sender never takes the swap for a loss.
    server.receiveAll(second);
    server.receiveAll(first);
    vi.advanceTimersToNextTimer();
    expect(toClient.queue.length).toBe(1);
    expect(toClient.take()[0]?.sack).toEqual([]);
    expect(server.stats.outOfOrder).toBe(2);
  });

  test("a datagram SACKed by a later one's ACK is sent again inside receiveAll(), no timer", async () => {
    const { client, server, toServer, toClient } = await pair();
    client.write("lost");
    await turn();
    const lost = dataSeqs(toServer.take());
    vi.advanceTimersByTime(HOP_MS); // the next datagram leaves 1 ms after the lost one
    client.write("arrives");
    await turn();
    vi.advanceTimersByTime(HOP_MS);
    server.receiveAll(toServer.take());
    vi.advanceTimersToNextTimer(); // the server's ACK at the end of its turn
    const timeouts = client.stats.timeouts;
    // The ACK comes back 3 ms after the lost datagram left: more than SRTT (2 ms) and a
    // quarter of it. Only the second is SACKed: the first is lost, and sent again inside
    // receiveAll(), with no timer run.
    vi.advanceTimersByTime(HOP_MS);
    client.receiveAll(toClient.take());
    expect(client.stats.fastRetransmits).toBe(1);
    expect(client.stats.timeouts).toBe(timeouts);
    expect(client.stats.tailLossProbes).toBe(0);
    expect(toServer.queue.length).toBe(1);
    expect(dataSeqs(toServer.take())).toEqual(lost);
  });

  /**
   * Two datagrams leave at the same instant; the path holds the first back and delivers the
   * second, whose ACK comes back 2 ms later, before the first has waited SRTT. Returns the
   * held datagram.
   */
  async function overtaken({ client, server, toServer, toClient }: Pair): Promise<Buffer> {
    client.write("held back");
    await turn();
    const held = toServer.queue.shift() as Buffer;
    client.write("overtakes");
    await turn();
    vi.advanceTimersByTime(HOP_MS);
    server.receiveAll(toServer.take());
    vi.advanceTimersToNextTimer(); // the server's ACK at the end of its turn
    vi.advanceTimersByTime(HOP_MS);
    client.receiveAll(toClient.take());
    return held;
  }

  test("before the path has reordered, a gap behind an acknowledged datagram is a loss at once", async () => {
    const link = await pair();
    const held = await overtaken(link);
    // No reordering window yet (RACK's starts at 0): the first is sent again now.
    expect(link.client.stats.fastRetransmits).toBe(1);
    expect(dataSeqs(link.toServer.take())).toEqual(dataSeqs(decodeSegments(held)));
  });

  test("once the path has reordered, a gap within the reordering window is not a loss yet", async () => {
    const link = await pair();
    const { client, server, toServer, toClient } = link;
    // The first swap: the held datagram is taken for lost and sent again, then its first copy
    // arrives, sooner after the copy than any RTT: the path reorders.
    const held = await overtaken(link);
    expect(client.stats.fastRetransmits).toBe(1);
    toServer.take(); // the copy, not needed
    server.receiveAll(decodeSegments(held));
    vi.advanceTimersToNextTimer();
    client.receiveAll(toClient.take());
    const retransmissions = client.stats.retransmissions;
    // The same swap again is waited out: SRTT and a quarter, no retransmission.
    await overtaken(link);
    expect(client.stats.retransmissions).toBe(retransmissions);
    expect(toServer.queue.length).toBe(0);
  });
});

describe("timeouts and probes", () => {
  test("a retransmission timeout sends two datagrams, then slow start grows the window per ACK", async () => {
    const { client, server, toServer, toClient } = await pair();
    // The server has no RTT sample yet, so its timer is the RTO (50 ms), not a probe.
    for (let i = 0; i < 5; i++) {
      server.write(`reply ${i}`);
      await turn();
    }
    expect(toClient.dropAll()).toBe(5);
    vi.advanceTimersByTime(OPTIONS.initialRtoMs);
    afterInput();
    expect(server.stats.timeouts).toBe(1);
    expect(server.stats.cwnd).toBe(1);
    // Two datagrams, one segment each: not the single segment a window of 1 allows.
    expect(toClient.queue.length).toBe(2);
    const retransmitted = [...toClient.take(), ...toClient.take()];
    expect(retransmitted.map((s) => s.payload.toString())).toEqual(["reply 0", "reply 1"]);
    for (const segment of retransmitted) client.receiveAll([segment]);
    vi.advanceTimersToNextTimer(); // the client's ACK at the end of its turn
    expect(toServer.queue.length).toBe(1);
    server.receiveAll(toServer.take());
    // Slow start (RFC 5681 3.1): the window grows by each segment acknowledged, 1 + 2, so the
    // three still lost leave on this one ACK, not one per round trip.
    expect(server.stats.cwnd).toBe(3);
    const next = toClient.queue.flatMap((d) => decodeSegments(d));
    expect(next.map((s) => s.payload.toString())).toEqual(["reply 2", "reply 3", "reply 4"]);
  });

  test("an ACK already waiting when the timer fires stops it: nothing is sent again", async () => {
    const { client, server, toServer, toClient } = await pair();
    // No RTT sample on the server yet: its timer is the RTO, 50 ms.
    server.write("reply");
    await turn();
    client.receiveAll(toClient.take());
    vi.advanceTimersToNextTimer(); // the client's ACK at the end of its turn
    expect(toServer.queue.length).toBe(1);
    // The server's event loop stalled past the RTO: its timer fires first, and the ACK is read
    // in the same turn, before the timer's work runs.
    vi.advanceTimersByTime(OPTIONS.initialRtoMs);
    server.receiveAll(toServer.take());
    afterInput();
    expect(server.stats.timeouts).toBe(0);
    expect(server.stats.retransmissions).toBe(0);
    expect(toClient.queue.length).toBe(0);
  });

  test("new data restarts a pending tail-loss probe's timer", async () => {
    const { client, toServer } = await pair();
    const pto = 2 * (client.stats.srttMs as number);
    client.write("first");
    await turn();
    vi.advanceTimersByTime(pto - 1);
    client.write("second");
    await turn();
    // The probe for "first" was due now; "second" moved it a whole PTO on.
    vi.advanceTimersByTime(1);
    afterInput();
    expect(client.stats.tailLossProbes).toBe(0);
    vi.advanceTimersByTime(pto - 2);
    afterInput();
    expect(client.stats.tailLossProbes).toBe(1);
    expect(toServer.sent).toBeGreaterThanOrEqual(2 + 2); // the handshake's ACK, 2 data, 2 probes
  });

  test("an ACK of new data restarts a pending tail-loss probe's timer", async () => {
    const { client, server, toServer, toClient } = await pair();
    const pto = 2 * (client.stats.srttMs as number);
    client.write("first");
    await turn();
    client.write("second");
    await turn();
    server.receiveAll(toServer.take()); // "first" arrives, "second" is still on its way
    vi.advanceTimersToNextTimer(); // the server's ACK at the end of its turn
    vi.advanceTimersByTime(pto - 1);
    client.receiveAll(toClient.take()); // 1 ms before the probe was due
    const restarted = 2 * (client.stats.srttMs as number); // with the ACK's RTT sample
    vi.advanceTimersByTime(1);
    afterInput();
    expect(client.stats.tailLossProbes).toBe(0);
    vi.advanceTimersByTime(restarted - 2);
    afterInput();
    expect(client.stats.tailLossProbes).toBe(1);
  });
});
