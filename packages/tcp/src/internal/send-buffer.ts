/**
 * A connection's send buffer: `write()` encodes messages into a slab, one flush per tick hands
 * them to the socket in one write (or one writev), and senders wait for 'drain' past the
 * high-water mark.
 */

import { SocketError } from "@socket-lab/core";
import { checkSignal, deferred, raceAbort } from "@socket-lab/core/internal";
import type { SendOptions } from "../connection.js";
import type { Framing } from "../framing.js";
import { account } from "./connection-budget.js";
import { closedError } from "./connection-lifecycle.js";
import type { ConnectionState } from "./connection-state.js";
import { asBuffer, bufferView } from "./framing-util.js";
import { noop, RESOLVED, rejectedHandled } from "./promises.js";

/**
 * Sizes of the output buffer ("slab") `send()` encodes messages into, in bytes. A connection
 * starts small and doubles its slab each time one tick's messages overflow it, so a chatty
 * connection writes 128 KiB at once. A quiet one holds none between its messages: once the
 * kernel has taken them, its small first slab goes back to `SPARE_SLABS` for any connection
 * to use next. A bigger message gets a buffer of its own.
 */
export const MIN_SLAB_BYTES = 2 * 1024;
const MAX_SLAB_BYTES = 128 * 1024;

/**
 * Small slabs no connection is using, shared by all: a request/response connection takes one
 * for each reply and gives it back, without allocating. At most `MAX_SPARE_SLABS` are kept.
 */
const SPARE_SLABS: Buffer[] = [];
const MAX_SPARE_SLABS = 64;
export const EMPTY = Buffer.alloc(0);

/** Bytes accepted by `send()` or `write()` and not yet handed to the kernel. */
export function bufferedBytes<M>(s: ConnectionState<M>): number {
  return s.unflushed + s.socket.writableLength;
}

/** `connection.send()` without options. */
export function send<M>(s: ConnectionState<M>, message: M): Promise<void> {
  let fits: boolean;
  try {
    fits = write(s, message);
  } catch (err) {
    return err instanceof SocketError ? rejectedHandled(err) : Promise.reject(err);
  }
  return fits ? RESOLVED : drain(s);
}

/** `send()` with options: kept apart so that the plain call stays as short as it is. */
export function sendWith<M>(
  s: ConnectionState<M>,
  message: M,
  { signal }: SendOptions,
): Promise<void> {
  try {
    checkSignal(signal, "options.signal");
  } catch (err) {
    return Promise.reject(err);
  }
  if (signal?.aborted === true) return raceAbort(RESOLVED, signal); // nothing queued
  const sent = send(s, message);
  return sent === RESOLVED ? sent : raceAbort(sent, signal);
}

/** `connection.write()`: encodes `message` into the slab and schedules the flush. */
export function write<M>(s: ConnectionState<M>, message: M): boolean {
  if (!s.writable) throw s.error ?? closedError(s);
  const framing = s.framing;
  const length = framing.encodedLength(message);
  const uncopied = length > s.highWaterMark && framing.encodeHeader !== undefined;
  if (uncopied) {
    appendUncopied(s, message, length);
  } else {
    if (s.slab.length - s.end < length) newSlab(s, length);
    s.end = framing.encodeInto(message, s.slab, s.end);
  }
  s.unflushed += length;
  s.stats.messagesSent++;
  if (uncopied) {
    // Written now, with what was sent before it: when the kernel takes it all at once, the
    // caller's buffers are free again and the caller need not wait for a 'drain' (as
    // `socket.write()` of one buffer returns true then). A flush at the end of the tick
    // would make every such message wait for one.
    flush(s);
  } else if (!s.flushScheduled) {
    s.flushScheduled = true;
    // nextTick, not a microtask: a loop of `await send()` runs entirely in microtasks, so
    // the whole loop (up to the high-water mark) lands in one write.
    process.nextTick(flush, s);
  }
  return s.unflushed + s.socket.writableLength <= s.highWaterMark;
}

/** `connection.drain()` without options. */
export function drain<M>(s: ConnectionState<M>): Promise<void> {
  if (s.error !== undefined) return rejectedHandled(s.error);
  if (bufferedBytes(s) <= s.highWaterMark) return RESOLVED;
  if (s.isClosed) return rejectedHandled(closedError(s));
  if (s.drain === undefined) {
    s.drain = deferred();
    s.drain.promise.catch(noop);
  }
  return s.drain.promise;
}

function newSlab<M>(s: ConnectionState<M>, length: number): void {
  if (s.end > s.start) {
    seal(s, unwritten(s));
    s.slabBytes = Math.min(2 * s.slabBytes, MAX_SLAB_BYTES);
  }
  const size = Math.max(s.slabBytes, length);
  s.slab = (size === MIN_SLAB_BYTES && SPARE_SLABS.pop()) || Buffer.allocUnsafe(size);
  s.start = 0;
  s.end = 0;
}

/**
 * Queues a message bigger than the high-water mark without copying it: its header goes into
 * the slab, its bytes are written from the caller's buffers, in the same flush. Unless the
 * kernel takes them at once, send() then returns the drain promise, which resolves only once
 * it has.
 */
function appendUncopied<M>(s: ConnectionState<M>, message: M, length: number): void {
  const encodeHeader = s.framing.encodeHeader as NonNullable<Framing<M>["encodeHeader"]>;
  // The message's own bytes: the message, or the pieces of a `lengthPrefixedPieces()` frame.
  const payload = (Array.isArray(message) ? message : [message]) as Uint8Array[];
  let payloadBytes = 0;
  for (const piece of payload) payloadBytes += piece.byteLength;
  const headerBytes = length - payloadBytes;
  if (s.slab.length - s.end < headerBytes) newSlab(s, headerBytes);
  s.end = encodeHeader(message, s.slab, s.end);
  seal(s, unwritten(s));
  for (const piece of payload) if (piece.byteLength > 0) seal(s, asBuffer(piece));
  s.start = s.end;
}

/** Queues `bytes` for this tick's flush (the array is made only when a tick needs one). */
function seal<M>(s: ConnectionState<M>, bytes: Buffer): void {
  if (s.sealed === undefined) s.sealed = [bytes];
  else s.sealed.push(bytes);
}

/** The slab's bytes from `start` to `end`: encoded, not yet written. */
function unwritten<M>(s: ConnectionState<M>): Buffer {
  const slab = s.slab;
  return bufferView(slab.buffer, slab.byteOffset + s.start, s.end - s.start);
}

/** Writes everything `send()` accepted since the last flush, as one write (or one writev). */
export function flush<M>(s: ConnectionState<M>): void {
  s.flushScheduled = false;
  const bytes = s.unflushed;
  if (bytes === 0) return;
  const sealed = s.sealed;
  const tail = s.end > s.start ? unwritten(s) : undefined;
  s.start = s.end;
  s.unflushed = 0;
  s.sealed = undefined;
  const socket = s.socket;
  if (socket.destroyed) return;
  s.writesInFlight++;
  if (sealed === undefined) {
    // The usual case, one slab's worth: a single write, no array.
    socket.write(tail as Buffer, s.afterWrite);
  } else {
    if (tail !== undefined) sealed.push(tail);
    socket.cork();
    for (const chunk of sealed) socket.write(chunk);
    socket.uncork();
    // No callback on the corked writes: Node wraps any in a new closure and schedules a tick
    // per writev (a frame over the high-water mark is one writev each). Nothing left in the
    // socket means the kernel took it all (or the write failed: `errored`); otherwise an
    // empty write queued behind it reports when it has.
    if (socket.writableLength === 0) s.afterWrite(socket.errored);
    else socket.write(EMPTY, s.afterWrite);
  }
  s.stats.bytesSent += bytes;
  s.trace?.({ type: "send", bytes, fd: s.fd });
  if (s.guard !== undefined) account(s);
}

/**
 * Runs when a flush has reached the kernel (or failed): the slab may be reused, and senders
 * waiting for the high-water mark may go on.
 */
export function afterWrite<M>(s: ConnectionState<M>, error?: Error | null): void {
  if (--s.writesInFlight === 0 && s.unflushed === 0) {
    s.start = 0;
    s.end = 0;
    // Idle: keep a grown slab for the next burst, but not a first one (10,000 quiet
    // connections would hold 20 MiB) nor one that a single big message made oversized.
    const size = s.slab.length;
    if (size === MIN_SLAB_BYTES && SPARE_SLABS.length < MAX_SPARE_SLABS) {
      SPARE_SLABS.push(s.slab);
    }
    if (size <= MIN_SLAB_BYTES || size > MAX_SLAB_BYTES) s.slab = EMPTY;
  }
  // A failed write: the socket is being destroyed, and its 'error' or 'close' rejects the
  // senders waiting for the drain; it must not look drained to them first.
  if (error) return;
  if (s.guard !== undefined) account(s);
  const waiting = s.drain;
  if (waiting !== undefined && bufferedBytes(s) <= s.highWaterMark) {
    s.drain = undefined;
    waiting.resolve();
  }
}
