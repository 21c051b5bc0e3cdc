/**
 * The UDP + sliding window row: the same datagrams through the same kind of lossy link, now
 * over @socket-lab/reliable-udp, which does by hand what TCP does in the kernel.
 *
 *   client ──DATA──▶ lossy link ──▶ server
 *          ◀──ACK──             ◀──
 *
 * A connection (SYN, SYN_ACK, ACK with a random id), then many messages in flight at once:
 * every message has a sequence number, the receiver acknowledges what arrived (a cumulative
 * ACK plus SACK ranges for what came after a gap) and delivers in order, once. The sender
 * resends only what is missing — at once when three later segments are acknowledged (fast
 * retransmit), or when the RTO timer runs out — within a congestion window and the
 * receiver's advertised window. Same guarantees as the request/response row, without waiting
 * for each reply.
 */

import { ErrorCode, isSocketError, SocketError } from "@socket-lab/core";
import type { LossyLinkStats } from "@socket-lab/netsim";
import {
  connect,
  listen,
  type ReliableConnection,
  type ReliableConnectionStats,
} from "@socket-lab/reliable-udp";
import { nowMicros } from "@socket-lab/udp";
import { _nextTurn, BURST, checkAborted, SEND_LIMIT_MS, settle } from "./internal/pace.js";
import {
  type LinkCounts,
  linkCountsOf,
  NO_LINK,
  numberedMessage,
  Receiver,
  type RowResult,
  type RowRun,
  traceOf,
  twoWayLink,
} from "./internal/row.js";
import { MAX_SIZE, REQUEST_TIMEOUT_MS, type Settings } from "./settings.js";

/**
 * How long the server may go without a message before the row gives up on the rest, in ms:
 * far more than the longest RTO below, so only a dead link or a stopped machine trips it (at
 * 20% loss each way on a busy machine, a few lost retransmissions in a row once waited 5 s).
 */
const STALL_MS = 30_000;

/** How long the handshake may take before the row reports no connection (`--loss 1`), in ms. */
const CONNECT_MS = 5_000;

/** How the sliding window row's connection behaves: timers as short as the retry row's. */
const CONNECTION = {
  // The least RTO: the request/response row's first wait, so both rows wait alike for a loss
  // nothing else reveals. RFC 6298 asks 1 s, Linux 200 ms; loopback's RTT is far below both.
  minRtoMs: REQUEST_TIMEOUT_MS,
  initialRtoMs: 10 * REQUEST_TIMEOUT_MS,
  // Backoff capped at a second, not RFC 6298's 60 s: a demo on loopback should try again
  // within a second, not sit out a minute after a few losses in a row.
  maxRtoMs: 100 * REQUEST_TIMEOUT_MS,
  maxMessageBytes: MAX_SIZE,
} as const;

/** What the sender did, from its connection's counters. */
export interface SenderCounts {
  /** Segments sent again. */
  readonly retransmissions: number;
  /** Of those, sent again because later segments were acknowledged. */
  readonly fastRetransmits: number;
  /** Times the retransmission timer ran out. */
  readonly timeouts: number;
  /** Retransmissions the peer's timestamp echo showed were not needed. */
  readonly spuriousRetransmissions: number;
  /** The smoothed round-trip time at the end, ms. */
  readonly srttMs: number;
  /** The retransmission timeout at the end, ms. */
  readonly rtoMs: number;
  /** The congestion window at the end, segments. */
  readonly cwnd: number;
  /** The slow-start threshold at the end, segments. */
  readonly ssthresh: number;
  /** The receive window the server last advertised, segments. */
  readonly peerWindow: number;
}

/** The sliding window row's columns, and what happened on the way. */
export interface ReliableRowResult extends RowResult {
  /** Data segments sent again. */
  readonly retries: number;
  readonly sender: SenderCounts;
  /** What the link did to data (`toServer`) and acknowledgements (`toClient`). */
  readonly link: { readonly toServer: LinkCounts; readonly toClient: LinkCounts };
}

/**
 * Sends `settings.count` sequenced messages over one reliable-udp connection through a lossy
 * link to a server that counts them.
 * @throws {SocketError} when a socket or the connection fails, or `run.signal`'s reason.
 */
export async function runReliableRow(
  settings: Settings,
  run: RowRun = {},
): Promise<ReliableRowResult> {
  const { count, size } = settings;
  const receiver = new Receiver();

  // socket + bind: one UDP socket; the handshake plays the part of listen and accept.
  const server = await listen("udp://127.0.0.1:0", {
    ...CONNECTION,
    trace: traceOf(run, "window server"),
  });
  // With kernel loss there is no link: segments and ACKs go straight, through the kernel.
  const link = await twoWayLink(settings, server.endpoint, run, "window link");
  // accept: the one connection, read in order until the client closes.
  const received = (async () => {
    for await (const connection of server) {
      for await (const message of connection) receiver.record(message);
      await connection.close();
      return;
    }
  })();
  received.catch(() => {});
  const resentAt: number[] = [];
  try {
    // connect: SYN through the link, SYN_ACK back.
    let client: ReliableConnection;
    try {
      client = await connect(link?.endpoint ?? server.endpoint, {
        ...CONNECTION,
        // Every segment sent again (the handshake's too), for the report's timeline.
        onSegment: ({ direction, retransmit }) => {
          if (direction === "send" && retransmit) resentAt.push(nowMicros());
        },
        connectTimeoutMs: CONNECT_MS,
        signal: run.signal,
        trace: traceOf(run, "window client"),
      });
    } catch (error) {
      checkAborted(run.signal);
      if (!isSocketError(error, ErrorCode.ERR_TIMEOUT)) throw error;
      // Nothing gets through (--loss 1): no connection, no message sent.
      return {
        ...receiver.result(0, nowMicros(), 0, count > 0),
        retries: 0,
        sender: senderCounts(undefined),
        link: linkCounts(link),
      };
    }
    const started = nowMicros();
    const stopAt = performance.now() + SEND_LIMIT_MS;
    let sent = 0;
    try {
      while (sent < count && performance.now() < stopAt) {
        checkAborted(run.signal);
        // send: queued, numbered, sent as the windows allow; wait when the queue is full.
        if (!client.write(numberedMessage(sent, size))) await client.drain();
        sent++;
        run.onProgress?.("udpWindow", sent, count);
        if (sent % BURST === 0) await _nextTurn();
      }
      // recv on the other side: every message arrives, in order, once; then the counters.
      const all = await settle(
        () => receiver.received >= sent,
        () => receiver.received,
        STALL_MS,
        run.signal,
      );
      if (!all) {
        throw new SocketError(
          ErrorCode.ERR_TIMEOUT,
          `the sliding window server got ${receiver.received} of ${sent} messages, then nothing for ${STALL_MS / 1000} s`,
          { hint: "Is the machine very busy? Try a smaller --count." },
        );
      }
      const stats = client.stats;
      // As the stats count them: what the close sends again comes after.
      const resendsAtMs = resentAt.map((at) => Math.max(0, Math.round(at - started) / 1000));
      // close: the FIN goes after the last message; the server's loop ends and it closes too.
      await client.close({ timeoutMs: STALL_MS });
      await received;
      return {
        ...receiver.result(sent, started, stats.retransmissions, sent < count),
        retries: stats.retransmissions,
        resendsAtMs,
        sender: senderCounts(stats),
        link: linkCounts(link),
      };
    } finally {
      await client.close({ timeoutMs: STALL_MS });
    }
  } finally {
    await server.close({ timeoutMs: STALL_MS });
    await link?.close();
  }
}

function linkCounts(
  link: { readonly stats: LossyLinkStats } | undefined,
): ReliableRowResult["link"] {
  const stats = link?.stats;
  if (stats === undefined) return { toServer: NO_LINK, toClient: NO_LINK };
  return { toServer: linkCountsOf(stats.toServer), toClient: linkCountsOf(stats.toClient) };
}

function senderCounts(stats: ReliableConnectionStats | undefined): SenderCounts {
  if (stats === undefined) {
    return {
      retransmissions: 0,
      fastRetransmits: 0,
      timeouts: 0,
      spuriousRetransmissions: 0,
      srttMs: 0,
      rtoMs: 0,
      cwnd: 0,
      ssthresh: 0,
      peerWindow: 0,
    };
  }
  return {
    retransmissions: stats.retransmissions,
    fastRetransmits: stats.fastRetransmits,
    timeouts: stats.timeouts,
    spuriousRetransmissions: stats.spuriousRetransmissions,
    srttMs: Math.round((stats.srttMs ?? 0) * 1000) / 1000,
    rtoMs: Math.round(stats.rtoMs * 10) / 10,
    cwnd: stats.cwnd,
    ssthresh: stats.ssthresh,
    peerWindow: stats.peerWindow,
  };
}
