/**
 * The UDP + retries row: the same datagrams through the same kind of lossy link, now as
 * requests that each wait for a reply and are sent again when none comes in time.
 *
 *   requester ──request──▶ lossy link ──▶ request server
 *             ◀──reply────            ◀──
 *
 * Reliability over datagrams, the way TFTP or DNS do it: one request at a time, an 8-byte
 * header with a request id, a timeout, retries with a growing wait. The server runs its handler
 * once per request id and answers repeats from a cache, so a retried or duplicated request is
 * not delivered twice. Every message gets through; the price is in the retries column, the
 * latency and the rate.
 */

import { ErrorCode, isSocketError } from "@socket-lab/core";
import { bind, createRequester, nowMicros, serveRequests } from "@socket-lab/udp";
import { checkAborted, SEND_LIMIT_MS } from "./internal/pace.js";
import {
  countCalls,
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
import { REQUEST_RETRIES, REQUEST_TIMEOUT_MS, type Settings } from "./settings.js";

/** Each retry waits this many times longer than the one before. */
const BACKOFF = 2;
/** Cap on one try's wait, as a multiple of the first. */
const MAX_BACKOFF = 8;

/** The request/response row's columns, and what happened on the way. */
export interface UdpRetryRowResult extends RowResult {
  /** Request datagrams sent again because no reply came in time. */
  readonly retries: number;
  /** Requests that got no reply after every try (they count as lost only if the server never got them). */
  readonly unanswered: number;
  /** The wait for a reply to a first try, in ms. */
  readonly timeoutMs: number;
  /** Repeated requests (retries and link duplicates) the server answered from its cache. */
  readonly repeatsAnswered: number;
  /** When each retry went out, in ms after the first request. */
  readonly resendsAtMs: readonly number[];
  /** What the link did to requests (`toServer`) and replies (`toClient`); zeros with no link. */
  readonly link: { readonly toServer: LinkCounts; readonly toClient: LinkCounts };
}

/**
 * Sends `settings.count` sequenced requests, one at a time, through a lossy link to a request
 * server that counts them, retrying each until a reply comes.
 * @throws {SocketError} when a socket fails, or `run.signal`'s reason.
 */
export async function runUdpRetryRow(
  settings: Settings,
  run: RowRun = {},
): Promise<UdpRetryRowResult> {
  const { count, size, delayMs, jitterMs } = settings;
  const receiver = new Receiver();
  // A reply crosses the link twice as late as the worst delay, and then some.
  const timeoutMs = REQUEST_TIMEOUT_MS + 2 * (delayMs + jitterMs);

  // The server: a bound socket whose datagrams go to a request handler.
  const serverSocket = await bind("udp://127.0.0.1:0", { trace: traceOf(run, "retry server") });
  // The reply is the request's id alone (an empty payload): it says "got it".
  const server = serveRequests(serverSocket, (request) => {
    receiver.record(request.data);
    return "";
  });
  // With kernel loss there is no link: requests and replies go straight, through the kernel.
  const link = await twoWayLink(settings, serverSocket.local, run, "retry link");
  // Every sendto of a request after its first is a retry: note when.
  const sends = countCalls(run, "retry client", "send");
  const resendsAtMs: number[] = [];
  let started = 0;
  let sendsBefore = 0;
  const clientSocket = await bind("udp://127.0.0.1:0", {
    trace: (event) => {
      sends.trace(event);
      if (event.type === "send" && sends.calls > sendsBefore + 1) {
        resendsAtMs.push(Math.round(nowMicros() - started) / 1000);
      }
    },
  });
  const requester = createRequester(clientSocket, {
    to: link?.endpoint ?? serverSocket.local,
    retries: REQUEST_RETRIES,
    backoff: { initialMs: timeoutMs, factor: BACKOFF, maxMs: MAX_BACKOFF * timeoutMs },
  });
  try {
    started = nowMicros();
    const stopAt = performance.now() + SEND_LIMIT_MS;
    let unanswered = 0;
    let sent = 0;
    while (sent < count && performance.now() < stopAt) {
      checkAborted(run.signal);
      sendsBefore = sends.calls;
      try {
        // sendto, then recvfrom with a deadline; sendto again on each timeout.
        await requester.request(numberedMessage(sent, size), { signal: run.signal });
      } catch (error) {
        checkAborted(run.signal);
        if (!isSocketError(error, ErrorCode.ERR_TIMEOUT)) throw error;
        unanswered++;
      }
      sent++;
      run.onProgress?.("udpRetries", sent, count);
    }
    const retries = requester.stats.tries - requester.stats.requests;
    const stats = link?.stats;
    return {
      ...receiver.result(sent, started, retries, sent < count),
      retries,
      unanswered,
      timeoutMs,
      repeatsAnswered: server.stats.duplicates,
      resendsAtMs,
      link: {
        toServer: stats === undefined ? NO_LINK : linkCountsOf(stats.toServer),
        toClient: stats === undefined ? NO_LINK : linkCountsOf(stats.toClient),
      },
    };
  } finally {
    await requester.close();
    await server.close();
    await clientSocket.close();
    await link?.close();
    await serverSocket.close();
  }
}
