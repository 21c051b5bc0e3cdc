/**
 * What one connection holds while it lives: the fields its send buffer, receive queue and
 * lifecycle share, as plain properties of one object. The functions of those modules take it as
 * their first argument; the public {@link TcpConnection} keeps it private.
 */

import type { Socket } from "node:net";
import {
  descriptorOf,
  type Endpoint,
  type SocketError,
  type TraceListener,
} from "@socket-lab/core";
import { type Deferred, RingQueue } from "@socket-lab/core/internal";
import type { ConnectionGuard, ConnectionSetup, TcpConnection } from "../connection.js";
import type { FrameDecoder, Framing } from "../framing.js";
import { next } from "./receive-queue.js";
import { afterWrite, EMPTY, MIN_SLAB_BYTES } from "./send-buffer.js";

/** A `next()` waiting for a message. */
export interface Reader<M> {
  resolve(result: IteratorResult<M>): void;
  reject(error: unknown): void;
}

/** Counters of one connection: the object `connection.stats` shows. */
export interface MutableStats {
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
}

export class ConnectionState<M> {
  /** The public connection, for `onClosed`. */
  readonly connection: TcpConnection<M>;
  readonly socket: Socket;
  readonly framing: Framing<M>;
  readonly decoder: FrameDecoder<M>;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly stats: MutableStats;
  readonly closed: Promise<void>;
  readonly resolveClosed: () => void;
  readonly trace: TraceListener | undefined;
  /** The socket's file descriptor, for the trace; `undefined` where Node does not expose it. */
  readonly fd: number | undefined;
  /** close(fd) is in the trace already. */
  closeTraced = false;
  readonly onClosed: ((connection: TcpConnection<M>) => void) | undefined;
  readonly highWaterMark: number;
  readonly idleTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly minDataRate: number;
  readonly minDataRateGraceMs: number;
  /** A frame deadline or a minimum data rate is set: `watchFrame()` runs after each read. */
  readonly watchesFrames: boolean;
  /** Runs while a message is incomplete; see `watchFrame()` and `onFrameTimer()`. */
  frameTimer: NodeJS.Timeout | undefined = undefined;
  /** When the message in progress began (or the deadline last started over), `performance.now()`. */
  messageStart = 0;
  readonly maxMessagesPerTurn: number;
  /** Messages the loop took from the queue since it last waited or yielded. */
  turnMessages = 0;
  /** `each()` goes on in a later turn: see `feedListener()`. */
  feedScheduled = false;
  readonly guard: ConnectionGuard | undefined;
  /** What this connection counts in `guard.heldBytes`. */
  heldBytes = 0;
  /** Bytes the queued messages were decoded from, at most: counted while the queue is not empty. */
  queuedBytes = 0;
  /** Failed or closed: holds nothing any more. */
  released = false;

  // Sending (send-buffer.ts): messages are encoded into `slab` from `end` on; `start..end` is
  // not yet written, and `sealed` holds full slabs of this tick. One flush per tick writes them
  // all. Once every write has reached the kernel, the slab is reused from its start.
  slab: Buffer = EMPTY;
  slabBytes = MIN_SLAB_BYTES;
  start = 0;
  end = 0;
  sealed: Buffer[] | undefined = undefined;
  /** Flushes written but not yet taken by the kernel: they still read from the slab. */
  writesInFlight = 0;
  unflushed = 0;
  flushScheduled = false;
  drain: Deferred<void> | undefined = undefined;
  writable = true;
  ending: Promise<void> | undefined = undefined;

  // Receiving (receive-queue.ts): decoded messages wait in `queue` (the socket is paused while
  // it is not empty), or go straight to a waiting `next()` in `readers`, or to the `each()`
  // listener.
  readonly queue = new RingQueue<M>();
  readonly readers = new RingQueue<Reader<M>>();
  paused = false;
  /** The `each()` listener, while it receives the messages. */
  listener: ((message: M) => unknown) | undefined = undefined;
  /** The listener returned a promise that has not settled: messages wait in `queue`. */
  listenerBusy = false;
  /** Settles the promise `each()` returned. */
  listening: Deferred<void> | undefined = undefined;
  /** No more messages will be queued: the peer ended, or the connection closes or failed. */
  readDone = false;
  /** The failure the loop throws once the queue is empty. */
  readError: SocketError | undefined = undefined;
  /** Drop incoming bytes: they arrived after `close()` or the server's close. */
  discard = false;
  /** End our side once the loop has taken the last queued message (graceful server close). */
  endWhenDrained = false;

  // Lifecycle (connection-lifecycle.ts).
  error: SocketError | undefined = undefined;
  isClosed = false;
  closing: Promise<void> | undefined = undefined;

  /**
   * Runs when a flush has reached the kernel (or failed): a callback made once per connection,
   * not per write.
   */
  readonly afterWrite = (error?: Error | null): void => afterWrite(this, error);

  /** Answers a `next()` in the next turn of the event loop (a Promise executor made once). */
  readonly nextTurn = (resolve: (result: Promise<IteratorResult<M>>) => void): void => {
    setImmediate(() => resolve(next(this)));
  };

  /** Queues a `next()` that waits for a message (a Promise executor made once, not per call). */
  readonly wait = (
    resolve: (result: IteratorResult<M>) => void,
    reject: (error: unknown) => void,
  ): void => {
    this.readers.push({ resolve, reject });
  };

  constructor(
    connection: TcpConnection<M>,
    setup: ConnectionSetup<M>,
    stats: MutableStats,
    closed: Promise<void>,
    resolveClosed: () => void,
  ) {
    this.connection = connection;
    this.socket = setup.socket;
    this.framing = setup.framing;
    this.decoder = setup.framing.createDecoder();
    this.local = setup.local;
    this.remote = setup.remote;
    this.stats = stats;
    this.closed = closed;
    this.resolveClosed = resolveClosed;
    this.trace = setup.trace;
    this.fd = setup.trace === undefined ? undefined : descriptorOf(setup.socket);
    this.onClosed = setup.onClosed;
    this.highWaterMark = setup.highWaterMark;
    this.idleTimeoutMs = setup.idleTimeoutMs;
    this.frameTimeoutMs = setup.frameTimeoutMs;
    this.minDataRate = setup.minDataRate;
    this.minDataRateGraceMs = setup.minDataRateGraceMs;
    this.watchesFrames = setup.frameTimeoutMs > 0 || setup.minDataRate > 0;
    this.maxMessagesPerTurn = setup.maxMessagesPerTurn;
    this.guard = setup.guard;
  }
}

/** A connection's state as the functions every connection shares take it. */
export type AnyState = ConnectionState<unknown>;
