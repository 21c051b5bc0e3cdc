/**
 * A connection's deadlines for the message in progress: `frameTimeoutMs` (a message must
 * arrive whole in time) and `minDataRate` (once started, at a least rate). One timer, moved
 * lazily, checks both.
 */

import { ErrorCode, formatAddress, SocketError } from "@socket-lab/core";
import { afterPendingInput, MAX_TIMER_MS } from "@socket-lab/core/internal";
import { fail } from "./connection-lifecycle.js";
import type { ConnectionState } from "./connection-state.js";
import { bufferedBytes } from "./send-buffer.js";

/**
 * Keeps the frame deadline after a read: it runs while a message is incomplete and starts
 * over when a message completes (`progress`). The timer is only moved lazily: it fires at the
 * earliest moment a limit could be passed, and `onFrameTimer()` checks and sets it again.
 */
export function watchFrame<M>(s: ConnectionState<M>, progress: boolean): void {
  const decoder = s.decoder;
  if (!(decoder.incomplete ?? decoder.bufferedBytes > 0)) {
    stopFrameTimer(s);
  } else if (s.frameTimer === undefined) {
    s.messageStart = performance.now();
    s.frameTimer = setTimeout(onFrameTimer, nextFrameCheck(s, 0, 0), s);
  } else if (progress) {
    s.messageStart = performance.now();
  }
}

export function stopFrameTimer<M>(s: ConnectionState<M>): void {
  if (s.frameTimer !== undefined) {
    clearTimeout(s.frameTimer);
    s.frameTimer = undefined;
  }
}

/**
 * Milliseconds from now, `elapsed` ms into a message of which `bytes` have arrived, until the
 * frame deadline or the minimum data rate could next be passed.
 */
function nextFrameCheck<M>(s: ConnectionState<M>, elapsed: number, bytes: number): number {
  let at = s.frameTimeoutMs > 0 ? s.frameTimeoutMs : Number.POSITIVE_INFINITY;
  if (s.minDataRate > 0) {
    at = Math.min(at, Math.max(s.minDataRateGraceMs, (bytes * 1000) / s.minDataRate));
  }
  return Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - elapsed)));
}

/**
 * The frame timer fired; after the turn's I/O, {@link checkFrame} fails the connection when
 * the message in progress is past its deadline or under the minimum rate, otherwise sets the
 * timer again. While the socket is paused the time counts against the peer only when it is
 * not reading our replies (more than the high-water mark unsent); when our own loop is
 * behind, the deadline starts over.
 */
function onFrameTimer<M>(s: ConnectionState<M>): void {
  // The rest of the message may be waiting unread: check after it, the timer still set
  // meanwhile (so a read there is progress on this message, not a new one).
  afterPendingInput(checkFrame, s, s.frameTimer);
}

function checkFrame<M>(s: ConnectionState<M>, timer: NodeJS.Timeout | undefined): void {
  if (s.frameTimer !== timer) return; // stopped, or set again, meanwhile
  s.frameTimer = undefined;
  const decoder = s.decoder;
  if (s.discard || s.isClosed || !(decoder.incomplete ?? decoder.bufferedBytes > 0)) {
    return;
  }
  const now = performance.now();
  const peerNotReading = s.paused && bufferedBytes(s) > s.highWaterMark;
  if (s.paused && !peerNotReading) s.messageStart = now;
  const elapsed = now - s.messageStart;
  const bytes = decoder.bufferedBytes;
  if (s.frameTimeoutMs > 0 && elapsed >= s.frameTimeoutMs) {
    onFrameTimeout(s, peerNotReading);
    return;
  }
  if (
    !s.paused &&
    s.minDataRate > 0 &&
    elapsed >= s.minDataRateGraceMs &&
    bytes * 1000 < s.minDataRate * elapsed
  ) {
    onTooSlow(s, bytes, elapsed);
    return;
  }
  s.frameTimer = setTimeout(onFrameTimer, nextFrameCheck(s, elapsed, bytes), s);
}

function onFrameTimeout<M>(s: ConnectionState<M>, peerNotReading: boolean): void {
  const what = s.framing.name === "lines" ? "line" : "frame";
  const bytes = s.decoder.bufferedBytes.toLocaleString("en-US");
  const why = peerNotReading
    ? ` while it left ${bufferedBytes(s).toLocaleString("en-US")} bytes of our replies unread`
    : "";
  fail(
    s,
    new SocketError(
      ErrorCode.ERR_TIMEOUT,
      `connection to ${formatAddress(s.remote)} sent ${bytes} bytes of a ${what} and did not finish it within ${s.frameTimeoutMs} ms${why}; closed`,
      {
        hint: "A peer must send each message whole within frameTimeoutMs, and read the replies it is sent (this stops slow-loris clients); raise frameTimeoutMs if large messages come over slow links.",
      },
    ),
    false,
  );
}

function onTooSlow<M>(s: ConnectionState<M>, bytes: number, elapsed: number): void {
  const what = s.framing.name === "lines" ? "line" : "frame";
  const error = new SocketError(
    ErrorCode.ERR_TIMEOUT,
    `connection to ${formatAddress(s.remote)} sent ${bytes.toLocaleString("en-US")} bytes of a ${what} in ${Math.round(elapsed)} ms, under the minimum of ${s.minDataRate.toLocaleString("en-US")} bytes/s; closed`,
    {
      hint: "A peer must keep sending a message it has started at minDataRate bytes per second or more (this stops slow-loris clients that finish each message just in time); lower minDataRate for slow links.",
    },
  );
  s.guard?.dropped(s.remote, "min-data-rate", error);
  fail(s, error, false);
}
