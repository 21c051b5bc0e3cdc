/**
 * A server connection's share of its server's byte budget (`maxBufferedBytes`): what it holds
 * is counted after each read, flush and completed write, and the connection that holds the
 * most is dropped when the budget is full.
 */

import { ErrorCode, formatAddress, SocketError } from "@socket-lab/core";
import { fail } from "./connection-lifecycle.js";
import type { ConnectionState } from "./connection-state.js";

/**
 * Brings this connection's share of its server's budget up to date: partial message, queued
 * messages, unsent replies. Runs once per read, flush and completed write, never per message.
 * Over the budget, the server drops the connection that holds the most.
 */
export function account<M>(s: ConnectionState<M>): void {
  const guard = s.guard;
  if (guard === undefined || s.released) return;
  const held = s.decoder.bufferedBytes + s.queuedBytes + s.unflushed + s.socket.writableLength;
  guard.heldBytes += held - s.heldBytes;
  s.heldBytes = held;
  if (guard.heldBytes > guard.maxBufferedBytes) guard.overBudget();
}

/** Gives back this connection's share of the budget: it failed or closed. */
export function release<M>(s: ConnectionState<M>): void {
  if (s.released) return;
  s.released = true;
  if (s.guard !== undefined) s.guard.heldBytes -= s.heldBytes;
  s.heldBytes = 0;
}

/**
 * Fails the connection because its server's byte budget is full and it holds the most: the
 * server calls this.
 */
export function dropForBudget<M>(s: ConnectionState<M>, maxBufferedBytes: number): void {
  const held = s.heldBytes.toLocaleString("en-US");
  const error = new SocketError(
    ErrorCode.ERR_BUFFER_BUDGET,
    `connection to ${formatAddress(s.remote)} was closed: the server's budget of ${maxBufferedBytes.toLocaleString("en-US")} bytes for partial messages and unsent replies was full, and it held the most (${held} bytes)`,
    {
      hint: "A peer must finish the messages it starts and read the replies it is sent; raise maxBufferedBytes if many peers legitimately send or receive large messages at once.",
    },
  );
  s.guard?.dropped(s.remote, "max-buffered-bytes", error);
  fail(s, error, true);
}
