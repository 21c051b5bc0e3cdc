/**
 * A connection's life: open (the socket's listeners), half-close (`end()`), close, destroy,
 * and failure, which ends the loop and the waiting senders with one error.
 */

import type { Socket } from "node:net";
import { ErrorCode, explain, formatAddress, SocketError } from "@socket-lab/core";
import { afterPendingInput, deferred } from "@socket-lab/core/internal";
import { release } from "./connection-budget.js";
import type { AnyState, ConnectionState } from "./connection-state.js";
import { stopFrameTimer } from "./frame-watch.js";
import { noop, RESOLVED, rejectedHandled } from "./promises.js";
import { onData, onEnd, settleReaders, stopReading } from "./receive-queue.js";
import { flush } from "./send-buffer.js";

/** Where a socket keeps its connection's state, for the listeners all connections share. */
const STATE = Symbol("connection state");

/** A connection's socket, which knows its connection. */
type OwnedSocket = Socket & { [STATE]: AnyState };

// The socket listeners every connection shares: one function each, not a closure per
// connection, so idle connections hold less (BENCHMARKS.md, "Connections"). A listener's
// `this` is the socket.

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  onData(this[STATE], chunk);
}

function onSocketEnd(this: OwnedSocket): void {
  onEnd(this[STATE]);
}

function onSocketError(this: OwnedSocket, err: Error): void {
  const s = this[STATE];
  fail(s, explain(err, { endpoint: formatAddress(s.remote) }), false);
}

function onSocketTimeout(this: OwnedSocket): void {
  // What the peer sent may be waiting unread: decide after it (a read restarts the timer).
  afterPendingInput(checkIdle, this, this.bytesRead);
}

function checkIdle(socket: OwnedSocket, bytesRead: number): void {
  const s = socket[STATE];
  if (s.isClosed || socket.bytesRead !== bytesRead) return;
  fail(
    s,
    new SocketError(
      ErrorCode.ERR_TIMEOUT,
      `connection to ${formatAddress(s.remote)} was idle for ${s.idleTimeoutMs} ms and was closed`,
      { hint: "Send something more often than idleTimeoutMs, or raise idleTimeoutMs." },
    ),
    false,
  );
}

function onSocketClose(this: OwnedSocket): void {
  const s = this[STATE];
  stopFrameTimer(s);
  release(s);
  s.isClosed = true;
  s.writable = false;
  traceClose(s);
  s.readDone = true;
  if (s.queue.length === 0) settleReaders(s);
  s.drain?.reject(s.error ?? closedError(s));
  s.drain = undefined;
  s.resolveClosed();
  s.onClosed?.(s.connection);
}

/** Opens: the socket's events now drive the connection. */
export function open<M>(s: ConnectionState<M>): void {
  const socket = s.socket as OwnedSocket;
  socket[STATE] = s as AnyState;
  socket.on("error", onSocketError);
  socket.on("data", onSocketData);
  socket.on("end", onSocketEnd);
  socket.on("close", onSocketClose);
  if (s.idleTimeoutMs > 0) {
    socket.setTimeout(s.idleTimeoutMs);
    socket.on("timeout", onSocketTimeout);
  }
}

/** `connection.end()`: flushes, then shuts down the sending side (SHUT_WR). */
export function end<M>(s: ConnectionState<M>): Promise<void> {
  if (s.ending === undefined) {
    if (s.error !== undefined) return rejectedHandled(s.error);
    s.writable = false;
    if (s.isClosed) {
      s.ending = RESOLVED;
    } else if (s.socket.destroyed) {
      // destroy() was called and 'close' is on its way: end()'s callback would never run.
      s.ending = rejectedHandled(closedError(s));
    } else {
      flush(s);
      s.trace?.({ type: "shutdown", how: "SHUT_WR", fd: s.fd });
      const ending = deferred<void>();
      s.socket.end((err?: Error | null) => {
        if (err) ending.reject(s.error ?? closedError(s));
        else ending.resolve();
      });
      ending.promise.catch(noop);
      s.ending = ending.promise;
    }
  }
  return s.ending;
}

/** `connection.close()`, its options checked. */
export function close<M>(s: ConnectionState<M>, timeoutMs: number): Promise<void> {
  if (s.closing === undefined) {
    stopReading(s, false);
    s.closing = closeWithin(s, timeoutMs);
  }
  return s.closing;
}

async function closeWithin<M>(s: ConnectionState<M>, timeoutMs: number): Promise<void> {
  if (s.isClosed) return;
  const timer = setTimeout(() => destroy(s), timeoutMs);
  // Not awaited: 'close' comes however the end goes (a destroyed socket never calls end()'s
  // callback), and a failure while ending is already recorded; close() never rejects.
  end(s).catch(noop);
  await s.closed;
  clearTimeout(timer);
}

/** `connection.destroy()`. */
export function destroy<M>(s: ConnectionState<M>, error?: Error): void {
  if (s.isClosed) return;
  if (error !== undefined) {
    fail(s, explain(error, { endpoint: formatAddress(s.remote) }), false);
  } else {
    s.writable = false;
    s.socket.destroy();
  }
}

/**
 * The server is closing: messages already received are still delivered, bytes arriving from
 * now on are dropped. With `endWhenDrained`, our side ends when the loop has taken them all.
 */
export function shutdown<M>(s: ConnectionState<M>, endWhenDrained: boolean): void {
  if (s.isClosed) return;
  s.endWhenDrained = endWhenDrained;
  stopReading(s, true);
}

/** Records the first failure, hands it to the loop and to waiting senders, destroys the socket. */
export function fail<M>(s: ConnectionState<M>, error: SocketError, reset: boolean): void {
  if (s.error !== undefined || s.isClosed) return;
  s.error = error;
  s.writable = false;
  stopFrameTimer(s);
  release(s);
  if (!s.readDone) {
    s.readDone = true;
    s.readError = error;
    if (s.queue.length === 0) settleReaders(s);
  }
  s.drain?.reject(error);
  s.drain = undefined;
  // resetAndDestroy() sends a TCP RST; unix sockets have none (their peer sees ECONNRESET
  // when unread data is dropped).
  if (reset && s.local.transport === "tcp") s.socket.resetAndDestroy();
  else s.socket.destroy();
}

/** Traces close(fd), once. */
export function traceClose<M>(s: ConnectionState<M>): void {
  if (s.closeTraced) return;
  s.closeTraced = true;
  s.trace?.({ type: "close", remote: s.remote, fd: s.fd });
}

/** The error of a send after `end()` or `close()`. */
export function closedError<M>(s: ConnectionState<M>): SocketError {
  return new SocketError(
    ErrorCode.ERR_SOCKET_CLOSED,
    `connection to ${formatAddress(s.remote)} is closed for sending`,
    { hint: "Send before calling end() or close(), or open a new connection." },
  );
}
