/**
 * The UDP row: numbered datagrams through netsim's lossy link, with nothing to repair them.
 *
 *   sender ──sendto──▶ lossy link ──sendto──▶ receiver
 *
 * A datagram keeps its boundaries — one send is one message, no framing needed — but nothing
 * else is promised: the link drops some, sends some twice and holds some back so a later one
 * overtakes them, and the receiver's tracker counts each kind. The link counts what it did on
 * its side, so the two can be checked against each other.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { startLossyLink } from "@socket-lab/netsim";
import { bind, nowMicros, type UdpSocket } from "@socket-lab/udp";
import {
  _nextTurn,
  checkAborted,
  QUIET_MS,
  SEND_LIMIT_MS,
  settle,
  turnUntil,
  WAIT_LIMIT_MS,
} from "./internal/pace.js";
import {
  type LinkCounts,
  linkCountsOf,
  NO_LINK,
  numberedMessage,
  Receiver,
  type RowResult,
  type RowRun,
  traceOf,
} from "./internal/row.js";
import { REORDER_HOLD_MS, type Settings } from "./settings.js";

/**
 * Most datagrams in a kernel buffer at once, in either hop: the sender waits when the link or
 * the receiver is this far behind, so the kernel never drops a datagram on its own (at 1,464
 * bytes, 32 datagrams take about 80 KB of a receive buffer that holds over 200 KB).
 */
const WINDOW = 32;

/** The UDP row's columns, and the link's own counts of what it did. */
export interface UdpRowResult extends RowResult {
  readonly link: LinkCounts;
}

/**
 * Sends `settings.count` sequenced datagrams through netsim's lossy link to a receiver, which
 * counts them, and waits until every datagram the link sent on has arrived (or, should some
 * vanish elsewhere, until the receiver has been quiet for 250 ms).
 * @throws {SocketError} when a socket fails, or `run.signal`'s reason.
 */
export async function runUdpRow(settings: Settings, run: RowRun = {}): Promise<UdpRowResult> {
  const { count, size, delayMs, jitterMs } = settings;
  const receiver = new Receiver();

  // socket + bind: the receiver's address is all a datagram needs; there is no listen/accept.
  const socket = await bind("udp://127.0.0.1:0", { trace: traceOf(run, "udp receiver") });
  // With kernel loss there is no link: the sender sends straight to the receiver.
  const link = settings.kernelLoss === null ? await startLink(settings, socket, run) : undefined;
  const target = link?.endpoint ?? socket.local;
  const toReceiver = () => link?.stats.toServer;
  const sender = await bind("udp://127.0.0.1:0", { trace: traceOf(run, "udp sender") });
  // recvfrom, in a loop: each datagram is one whole message, counted as it comes.
  const reading = (async () => {
    for await (const datagram of socket) receiver.record(datagram.data);
  })();
  // Its failure surfaces when it is awaited below; until then it must not count as unhandled.
  reading.catch(() => {});
  try {
    const started = nowMicros();
    const stopAt = performance.now() + SEND_LIMIT_MS;
    let paced = true;
    let sent = 0;
    // How far the link (reading from the sender) or the receiver (reading from the link) lags.
    const behind = () => {
      const hop = toReceiver();
      if (hop === undefined) return 0;
      return Math.max(sent - hop.received, hop.forwarded - receiver.received);
    };
    while (sent < count && performance.now() < stopAt) {
      checkAborted(run.signal);
      // sendto: to the link, which the sender cannot tell from the receiver.
      await sender.send(numberedMessage(sent, size), target);
      sent++;
      run.onProgress?.("udp", sent, count);
      if (link === undefined) {
        // Straight to the receiver: a datagram is in its buffer (or dropped) once sendto returns,
        // and a turn of the event loop lets it read them all, so the buffer never fills.
        if (sent % (WINDOW / 2) === 0) await _nextTurn();
      } else if (paced && behind() >= WINDOW) {
        // A lag that never shrinks means datagrams vanished outside netsim: stop waiting on
        // it (the cross-check will show the difference) rather than wait after every send.
        paced = await turnUntil(() => behind() <= WINDOW / 2, WAIT_LIMIT_MS);
      }
    }
    if (link === undefined) {
      // Lost datagrams never come: the wait ends after a quiet period, or when all came.
      await settle(
        () => receiver.received >= sent,
        () => receiver.received,
        QUIET_MS,
        run.signal,
      );
      return { ...receiver.result(sent, started, null, sent < count), link: NO_LINK };
    }
    // The link has read every datagram…
    await settle(
      () => link.stats.toServer.received === sent,
      () => link.stats.toServer.received,
      QUIET_MS,
      run.signal,
    );
    // …its delays have run out…
    if (delayMs + jitterMs > 0) await sleep(delayMs + jitterMs + 1);
    // …and closing it releases what it still holds back for reordering: nothing overtakes
    // those any more, so they arrive late but in order.
    await link.close();
    const forwarded = link.stats.toServer.forwarded;
    await settle(
      () => receiver.received >= forwarded,
      () => receiver.received,
      QUIET_MS,
      run.signal,
    );
    return {
      ...receiver.result(sent, started, null, sent < count),
      link: linkCountsOf(link.stats.toServer),
    };
  } finally {
    await sender.close();
    await link?.close();
    // close: iteration ends, and with it the reading loop.
    await socket.close();
    await reading;
  }
}

/** The lossy link between sender and receiver, from the settings. */
function startLink(settings: Settings, socket: UdpSocket, run: RowRun) {
  const { delayMs, jitterMs } = settings;
  return startLossyLink({
    target: socket.local,
    loss: settings.loss,
    duplicate: settings.duplicate,
    reorder: settings.reorder,
    delayMs,
    jitterMs,
    seed: settings.seed,
    directions: "to-server",
    reorderHoldMs: REORDER_HOLD_MS,
    trace: traceOf(run, "udp link"),
  });
}
