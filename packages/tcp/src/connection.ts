/**
 * One stream connection, the same on both sides: the socket `accept()` hands a server and the
 * socket a client `connect()`s. Messages go out through a framing and come back through it.
 */

import type { Socket } from "node:net";
import {
  descriptorOf,
  type Endpoint,
  ErrorCode,
  explain,
  formatAddress,
  SocketError,
  type TraceListener,
} from "@socket-lab/core";
import { checkSignal, raceAbort } from "@socket-lab/core/internal";
import { asBuffer, bufferView, withDefaults } from "./_framing-util.js";
import { checkInteger, MAX_TIMER_MS } from "./_options.js";
import { type Deferred, DONE, deferred, noop, RESOLVED, rejectedHandled } from "./_promises.js";
import { RingQueue } from "./_queue.js";
import type { FrameDecoder, Framing } from "./framing.js";
import { type TlsInfo, tlsInfoOf } from "./tls.js";

/**
 * Default most bytes a connection buffers before `send()` makes its caller wait for 'drain':
 * 64 KiB, the size of one full write on loopback. Counted as `bufferedBytes`.
 * @example
 * await using server = await listen(":0", { highWaterMark: 4 * DEFAULT_HIGH_WATER_MARK });
 */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/**
 * Default time `close()` lets a connection (or a server's connections) flush and wait for the
 * peer before destroying it, in ms.
 * @example
 * DEFAULT_CLOSE_TIMEOUT_MS //=> 5000
 */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/**
 * Default most messages a connection hands to its reader in one turn of the event loop before
 * it yields (`setImmediate`), so that one peer's burst cannot keep the others waiting: one
 * 64 KiB read of empty lines is 65,536 messages.
 * @example
 * await using server = await listen(":0", { maxMessagesPerTurn: 256 }); // fairer still, a little slower per message
 */
export const DEFAULT_MAX_MESSAGES_PER_TURN = 1_024;

/**
 * Sizes of the output buffer ("slab") `send()` encodes messages into, in bytes. A connection
 * starts small and doubles its slab each time one tick's messages overflow it, so a chatty
 * connection writes 128 KiB at once. A quiet one holds none between its messages: once the
 * kernel has taken them, its small first slab goes back to `SPARE_SLABS` for any connection
 * to use next. A bigger message gets a buffer of its own.
 */
const MIN_SLAB_BYTES = 2 * 1024;
const MAX_SLAB_BYTES = 128 * 1024;

/**
 * Small slabs no connection is using, shared by all: a request/response connection takes one
 * for each reply and gives it back, without allocating. At most `MAX_SPARE_SLABS` are kept.
 */
const SPARE_SLABS: Buffer[] = [];
const MAX_SPARE_SLABS = 64;
const EMPTY = Buffer.alloc(0);

/**
 * Counters of one connection, updated as data moves.
 * @example
 * await using server = await listen(":0", { handler: (peer) => peer.each((line) => peer.write(`echo: ${line}`)) });
 * await using connection = await connect(server.endpoint);
 * await connection.send("Hello from client");
 * for await (const reply of connection) break;
 * connection.stats //=> { bytesSent: 18, bytesReceived: 24, messagesSent: 1, messagesReceived: 1 }
 */
export interface ConnectionStats {
  /** Bytes handed to the socket for sending, framing included. */
  readonly bytesSent: number;
  /** Bytes read from the socket, framing included. */
  readonly bytesReceived: number;
  /** Messages accepted by `send()` or `write()`. */
  readonly messagesSent: number;
  /** Messages decoded from the bytes received. */
  readonly messagesReceived: number;
}

/**
 * How `close()` ends a connection, or `Server.close()` a server.
 * @example
 * await using server = await listen(":0");
 * const connection = await connect(server.endpoint);
 * await connection.close({ timeoutMs: 1_000 });
 */
export interface CloseOptions {
  /**
   * Time to flush what was sent and wait for the peer to close its side before destroying
   * what is left, in ms.
   * @default DEFAULT_CLOSE_TIMEOUT_MS (5000)
   */
  timeoutMs?: number;
}

/**
 * How `send()` or `drain()` waits.
 * @example
 * await using server = await listen(":0");
 * await using connection = await connect(server.endpoint);
 * await connection.send("Hello from client", { signal: AbortSignal.timeout(5_000) });
 */
export interface SendOptions {
  /**
   * Stops waiting for the socket to drain: the promise rejects with `signal.reason` (a
   * DOMException `AbortError` for `controller.abort()`). Only the wait is cancelled: a message
   * `send()` has accepted stays queued and is still sent, in order (the kernel may already
   * hold it). Fired before `send()`, nothing is queued.
   * @default none
   */
  signal?: AbortSignal;
}

/**
 * A stream connection carrying messages of type `M`: `string` with `lines()`, `Buffer` with
 * `lengthPrefixed()`. Iterate it to receive; the loop ends when the peer ends its side and
 * throws a {@link SocketError} when the connection fails (reset, oversize frame, idle timeout).
 * Breaking out of the loop leaves the connection open. A connection never emits an unhandled
 * 'error': failures surface through the iterator and the promises below.
 *
 * @example
 * await using server = await listen(":0", {
 *   handler: async (connection) => {
 *     for await (const line of connection) await connection.send(line.toUpperCase());
 *     await connection.close();
 *   },
 * });
 * await using client = await connect(server.endpoint);
 * await client.send("hello");
 * for await (const reply of client) { console.log(reply); break; }
 * //=> HELLO
 */
export interface Connection<M> extends AsyncIterable<M>, AsyncDisposable {
  /** A number unique among the connections of this process, for logs. */
  readonly id: number;
  /** This side's endpoint. For unix sockets both ends show the server's socket path. */
  readonly local: Endpoint;
  /** The peer's endpoint. */
  readonly remote: Endpoint;
  /**
   * The socket's file descriptor, the number the kernel's calls take (`accept(3) = 21`), read
   * from Node's handle (`socket._handle.fd`, not public API); `undefined` where Node does not
   * expose one (on Windows, or once the socket is closed).
   */
  readonly fd: number | undefined;
  /** What the TLS handshake agreed on (`tls://` endpoints); `undefined` over plain TCP or unix. */
  readonly tls: TlsInfo | undefined;
  /** Byte and message counters. */
  readonly stats: ConnectionStats;
  /**
   * The underlying `net.Socket` (a `tls.TLSSocket` over `tls://`), read-only, for anything
   * else a node:net user needs: `getPeerCertificate()`, `setKeepAlive()` later on, socket
   * options, `address()`. Do not read or write through it, nor add or remove 'data', 'end' or
   * 'error' listeners: the connection owns its bytes, its framing and its errors.
   */
  readonly socket: Socket;
  /**
   * Lets the process exit while this connection is open (`socket.unref()`): it no longer keeps
   * the event loop alive by itself. Returns the connection.
   */
  unref(): this;
  /** Undoes `unref()` (`socket.ref()`): the connection keeps the process alive again. */
  ref(): this;
  /** Bytes accepted by `send()` or `write()` and not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /**
   * Sends one message. Messages sent in the same tick go out in one write, at the end of the
   * tick or when the loop starts waiting for the peer's next message. Resolves at once
   * while `bufferedBytes` stays within the high-water mark, otherwise once the socket has
   * drained. A message is copied, except one whose encoded size is over the high-water mark
   * with a framing that sends it as it is (`lengthPrefixed()`, `lengthPrefixedPieces()`): that
   * one is written at once (with the messages sent before it) from your buffers, so change them
   * only once this promise has resolved: at once when the kernel took it all, otherwise once
   * it has taken the rest. A rejection from a failing
   * connection is marked handled, so a send that is not awaited never crashes the process.
   * @throws {SocketError} (as a rejection) `ERR_FRAME_TOO_LARGE` for a message over the framing's
   *   limit, without sending anything; `ERR_SOCKET_CLOSED` after `end()` or `close()`; the
   *   connection's failure (`ECONNRESET`, `EPIPE`, `ERR_TIMEOUT`, …) once it has failed.
   * @throws {TypeError} (as a rejection) for a message the framing cannot encode, such as a line
   *   containing `\n`.
   * @throws `signal.reason` (as a rejection) when `options.signal` fires before the drain.
   */
  send(message: M, options?: SendOptions): Promise<void>;
  /**
   * Sends one message without returning a promise: `send()` for hot loops, which then pay no
   * `await` per message. Like `socket.write()`, it returns `false` once `bufferedBytes` is over
   * the high-water mark: the caller should `await drain()` before writing more. Messages are
   * coalesced, copied and ordered exactly as with `send()`.
   * @throws {SocketError} `ERR_FRAME_TOO_LARGE` for a message over the framing's limit, without
   *   sending anything; `ERR_SOCKET_CLOSED` after `end()` or `close()`; the connection's failure
   *   once it has failed.
   * @throws {TypeError} for a message the framing cannot encode.
   * @example Fragment: `connection` and `messages` are the caller's
   * for (const message of messages) {
   *   if (!connection.write(message)) await connection.drain();
   * }
   */
  write(message: M): boolean;
  /**
   * Receives by callback instead of by loop: hands each message to `listener` as soon as it is
   * decoded, in order, inside the read that brought it, without a promise per message. What the
   * listener sends (with `write()`) goes out in one write before that read returns, so a reply
   * leaves a microtask sooner than from a `for await` loop: use it where latency counts. Messages
   * already received go to the listener first. When the listener returns a promise, the
   * messages after it wait until it settles, and the socket stops reading while they wait
   * (backpressure, as with a slow loop).
   *
   * Resolves when the peer has ended its side and every message was handed over; rejects with
   * the connection's failure (as the loop throws it), or with what the listener threw or its
   * promise rejected with. After a listener's failure the connection stays open and what
   * arrives next waits for a new loop or `each()`, as after `break`.
   * @throws {TypeError} (as a rejection) when `listener` is not a function, or while a loop or
   *   another `each()` reads the connection: read it in one place at a time.
   * @example Fragment: a property of the options of `listen()`
   * // an echo server's handler; the connection closes when the peer ends its side
   * handler: (connection) =>
   *   connection.each((frame) => {
   *     if (!connection.write(frame)) return connection.drain();
   *   }),
   */
  each(listener: (message: M) => void | PromiseLike<void>): Promise<void>;
  /**
   * Resolves once `bufferedBytes` is within the high-water mark: at once when it already is.
   * @throws {SocketError} (as a rejection, marked handled) the connection's failure, or
   *   `ERR_SOCKET_CLOSED` when it closes before draining; `signal.reason` when
   *   `options.signal` fires first.
   */
  drain(options?: SendOptions): Promise<void>;
  /**
   * Half-closes: flushes what `send()` accepted, then shuts down the sending side (SHUT_WR), so
   * the peer's loop ends. Messages from the peer can still be received. Idempotent.
   * @throws {SocketError} (as a rejection) when the connection fails before the end is sent.
   */
  end(): Promise<void>;
  /**
   * Flushes, ends, stops receiving (messages not yet read are dropped and the loop ends) and
   * waits for the peer to close too; destroys the connection if that takes longer than
   * `timeoutMs`. Idempotent; never rejects.
   */
  close(options?: CloseOptions): Promise<void>;
  /**
   * Closes at once without flushing. With `error`, the loop and pending sends fail with it
   * (as a {@link SocketError}); without, the loop ends and sends fail with `ERR_SOCKET_CLOSED`.
   */
  destroy(error?: Error): void;
  /** Resolves when the socket is fully closed, however that happened. Never rejects. */
  readonly closed: Promise<void>;
  /** `close()`, for `await using connection = await connect(…)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a transport hands a new {@link TcpConnection}. */
export interface ConnectionSetup<M> {
  socket: Socket;
  framing: Framing<M>;
  local: Endpoint;
  remote: Endpoint;
  /** Time without reads or writes before the connection fails with `ERR_TIMEOUT`, in ms; 0: never. */
  idleTimeoutMs: number;
  /**
   * Time a message may take to arrive whole once its first byte has come, while the socket is
   * read, before the connection fails with `ERR_TIMEOUT`, in ms; 0: never.
   */
  frameTimeoutMs: number;
  highWaterMark: number;
  /**
   * Least average rate, in bytes per second, at which a message must arrive once it has been
   * in progress for `minDataRateGraceMs`; 0: no minimum.
   */
  minDataRate: number;
  minDataRateGraceMs: number;
  /** Messages handed to the reader before yielding to the event loop. */
  maxMessagesPerTurn: number;
  /** The server's budget and drop reports; none for a client's connection. */
  guard?: ConnectionGuard;
  trace: TraceListener | undefined;
  /**
   * Called once the socket has closed, with the connection: a server's bookkeeping, one
   * function for all its connections rather than a reaction to each `closed` promise.
   */
  onClosed?: (connection: TcpConnection<M>) => void;
}

/** Why a server dropped a connection it had accepted (see `ServerOptions`). */
export type DropReason = "max-buffered-bytes" | "min-data-rate";

/**
 * What a server shares with its connections: the bytes they hold between them (partial and
 * queued messages, unsent replies), counted against its budget, and where a connection says it
 * was dropped for one of the server's limits.
 */
export interface ConnectionGuard {
  /** Bytes all the server's connections hold now. */
  heldBytes: number;
  /** The budget: `overBudget()` is called whenever `heldBytes` goes over it. */
  readonly maxBufferedBytes: number;
  overBudget(): void;
  dropped(remote: Endpoint, reason: DropReason, error: SocketError): void;
}

/** `#next()` of a connection, for {@link Messages}: set by the class's static block. */
let nextMessage: <M>(connection: TcpConnection<M>) => Promise<IteratorResult<M>>;

/** Where a socket keeps its connection, for the listeners all connections share. */
const CONNECTION = Symbol("connection");

/** A connection's socket, which knows its connection. */
type OwnedSocket = Socket & { [CONNECTION]: TcpConnection<unknown> };

/**
 * The socket listeners and the flush every connection shares (one function each, not a closure
 * per connection: 10,000 idle connections hold 3.8 MB less, BENCHMARKS.md on 560bf26). A listener's `this` is the socket;
 * all are set by the class's static block, which may reach the connection's private methods.
 */
let onSocketData: (this: OwnedSocket, chunk: Buffer) => void;
let onSocketEnd: (this: OwnedSocket) => void;
let onSocketError: (this: OwnedSocket, err: Error) => void;
let onSocketTimeout: (this: OwnedSocket) => void;
let onSocketClose: (this: OwnedSocket) => void;
let flushConnection: (connection: TcpConnection<unknown>) => void;
let feedAgain: (connection: TcpConnection<unknown>) => void;
let onFrameTimer: (connection: TcpConnection<unknown>) => void;

/**
 * A loop's iterator: one small object whose methods every loop shares, rather than two
 * closures per loop. `return()` (a `break`) leaves the connection open.
 */
class Messages<M> implements AsyncIterator<M> {
  readonly #connection: TcpConnection<M>;

  constructor(connection: TcpConnection<M>) {
    this.#connection = connection;
  }

  next(): Promise<IteratorResult<M>> {
    return nextMessage(this.#connection);
  }

  return(): Promise<IteratorResult<M>> {
    return Promise.resolve(DONE);
  }
}

/** Whether a listener returned a promise (or any thenable) to wait for. */
function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== undefined &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}

/** A `next()` waiting for a message. */
interface Reader<M> {
  resolve(result: IteratorResult<M>): void;
  reject(error: unknown): void;
}

let lastId = 0;

/** The {@link Connection} implementation over a node:net socket. Not exported from the package. */
export class TcpConnection<M> implements Connection<M> {
  readonly id = ++lastId;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly stats = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
  readonly closed: Promise<void>;

  readonly #socket: Socket;
  readonly #framing: Framing<M>;
  readonly #decoder: FrameDecoder<M>;
  readonly #trace: TraceListener | undefined;
  /** The socket's file descriptor, for the trace; `undefined` where Node does not expose it. */
  readonly #fd: number | undefined;
  /** close(fd) is in the trace already. */
  #closeTraced = false;
  readonly #onClosed: ((connection: TcpConnection<M>) => void) | undefined;
  readonly #highWaterMark: number;
  readonly #idleTimeoutMs: number;
  readonly #frameTimeoutMs: number;
  readonly #minDataRate: number;
  readonly #minDataRateGraceMs: number;
  /** A frame deadline or a minimum data rate is set: `#watchFrame()` runs after each read. */
  readonly #watchesFrames: boolean;
  /** Runs while a message is incomplete; see `#watchFrame()` and `#onFrameTimer()`. */
  #frameTimer: NodeJS.Timeout | undefined;
  /** When the message in progress began (or the deadline last started over), `performance.now()`. */
  #messageStart = 0;
  readonly #maxMessagesPerTurn: number;
  /** Messages the loop took from the queue since it last waited or yielded. */
  #turnMessages = 0;
  /** `each()` goes on in a later turn: see `#feedListener()`. */
  #feedScheduled = false;
  readonly #guard: ConnectionGuard | undefined;
  /** What this connection counts in `#guard.heldBytes`. */
  #heldBytes = 0;
  /** Bytes the queued messages were decoded from, at most: counted while the queue is not empty. */
  #queuedBytes = 0;
  /** Failed or closed: holds nothing any more. */
  #released = false;

  // Sending: messages are encoded into `#slab` from `#end` on; `#start..#end` is not yet
  // written, and `#sealed` holds full slabs of this tick. One flush per tick writes them all.
  // Once every write has reached the kernel, the slab is reused from its start.
  #slab: Buffer = EMPTY;
  #slabBytes = MIN_SLAB_BYTES;
  #start = 0;
  #end = 0;
  #sealed: Buffer[] | undefined;
  /** Flushes written but not yet taken by the kernel: they still read from the slab. */
  #writesInFlight = 0;
  #unflushed = 0;
  #flushScheduled = false;
  #drain: Deferred<void> | undefined;
  #writable = true;
  #ending: Promise<void> | undefined;

  // Receiving: decoded messages wait in `#queue` (the socket is paused while it is not empty),
  // or go straight to a waiting `next()` in `#readers`, or to the `each()` listener.
  readonly #queue = new RingQueue<M>();
  readonly #readers = new RingQueue<Reader<M>>();
  #paused = false;
  /** The `each()` listener, while it receives the messages. */
  #listener: ((message: M) => unknown) | undefined;
  /** The listener returned a promise that has not settled: messages wait in `#queue`. */
  #listenerBusy = false;
  /** Settles the promise `each()` returned. */
  #listening: Deferred<void> | undefined;
  /** No more messages will be queued: the peer ended, or the connection closes or failed. */
  #readDone = false;
  /** The failure the loop throws once the queue is empty. */
  #readError: SocketError | undefined;
  /** Drop incoming bytes: they arrived after `close()` or the server's close. */
  #discard = false;
  /** End our side once the loop has taken the last queued message (graceful server close). */
  #endWhenDrained = false;

  #error: SocketError | undefined;
  #isClosed = false;
  #closing: Promise<void> | undefined;
  readonly #resolveClosed: () => void;

  constructor(setup: ConnectionSetup<M>) {
    this.#socket = setup.socket;
    this.#framing = setup.framing;
    this.#decoder = setup.framing.createDecoder();
    this.#trace = setup.trace;
    this.#fd = setup.trace === undefined ? undefined : descriptorOf(setup.socket);
    this.#onClosed = setup.onClosed;
    this.#highWaterMark = setup.highWaterMark;
    this.#idleTimeoutMs = setup.idleTimeoutMs;
    this.#frameTimeoutMs = setup.frameTimeoutMs;
    this.#minDataRate = setup.minDataRate;
    this.#minDataRateGraceMs = setup.minDataRateGraceMs;
    this.#watchesFrames = setup.frameTimeoutMs > 0 || setup.minDataRate > 0;
    this.#maxMessagesPerTurn = setup.maxMessagesPerTurn;
    this.#guard = setup.guard;
    this.local = setup.local;
    this.remote = setup.remote;
    let resolveClosed = noop;
    this.closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    this.#resolveClosed = resolveClosed;

    const socket = this.#socket as OwnedSocket;
    socket[CONNECTION] = this as TcpConnection<unknown>;
    socket.on("error", onSocketError);
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("close", onSocketClose);
    if (this.#idleTimeoutMs > 0) {
      socket.setTimeout(this.#idleTimeoutMs);
      socket.on("timeout", onSocketTimeout);
    }
  }

  get fd(): number | undefined {
    return descriptorOf(this.#socket);
  }

  get socket(): Socket {
    return this.#socket;
  }

  unref(): this {
    this.#socket.unref();
    return this;
  }

  ref(): this {
    this.#socket.ref();
    return this;
  }

  get tls(): TlsInfo | undefined {
    return tlsInfoOf(this.#socket);
  }

  get bufferedBytes(): number {
    return this.#unflushed + this.#socket.writableLength;
  }

  /** This connection, as the functions all connections share take it. */
  get #shared(): TcpConnection<unknown> {
    return this as unknown as TcpConnection<unknown>;
  }

  /** Bytes this connection holds, as counted against its server's `maxBufferedBytes`. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  send(message: M, options?: SendOptions): Promise<void> {
    if (options !== undefined) return this.#sendWith(message, options);
    let fits: boolean;
    try {
      fits = this.write(message);
    } catch (err) {
      return err instanceof SocketError ? rejectedHandled(err) : Promise.reject(err);
    }
    return fits ? RESOLVED : this.drain();
  }

  write(message: M): boolean {
    if (!this.#writable) throw this.#error ?? this.#closedError();
    const length = this.#framing.encodedLength(message);
    const uncopied = length > this.#highWaterMark && this.#framing.encodeHeader !== undefined;
    if (uncopied) {
      this.#appendUncopied(message, length);
    } else {
      if (this.#slab.length - this.#end < length) this.#newSlab(length);
      this.#end = this.#framing.encodeInto(message, this.#slab, this.#end);
    }
    this.#unflushed += length;
    this.stats.messagesSent++;
    if (uncopied) {
      // Written now, with what was sent before it: when the kernel takes it all at once, the
      // caller's buffers are free again and the caller need not wait for a 'drain' (as
      // `socket.write()` of one buffer returns true then). A flush at the end of the tick
      // would make every such message wait for one.
      this.#flush();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // nextTick, not a microtask: a loop of `await send()` runs entirely in microtasks, so
      // the whole loop (up to the high-water mark) lands in one write.
      process.nextTick(flushConnection, this);
    }
    return this.bufferedBytes <= this.#highWaterMark;
  }

  each(listener: (message: M) => void | PromiseLike<void>): Promise<void> {
    if (typeof listener !== "function") {
      return Promise.reject(new TypeError(`each() takes a function, got ${typeof listener}`));
    }
    if (this.#listener !== undefined || this.#readers.length > 0) return this.#readTwice();
    this.#listener = listener;
    const listening = deferred<void>();
    this.#listening = listening;
    this.#feedListener();
    return listening.promise;
  }

  /** `send()` with options: kept apart so that the plain call stays as short as it is. */
  #sendWith(message: M, { signal }: SendOptions): Promise<void> {
    try {
      checkSignal(signal, "options.signal");
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted === true) return raceAbort(RESOLVED, signal); // nothing queued
    const sent = this.send(message);
    return sent === RESOLVED ? sent : raceAbort(sent, signal);
  }

  drain(options?: SendOptions): Promise<void> {
    if (options !== undefined) {
      try {
        checkSignal(options.signal, "options.signal");
      } catch (err) {
        return Promise.reject(err);
      }
      return raceAbort(this.drain(), options.signal);
    }
    if (this.#error !== undefined) return rejectedHandled(this.#error);
    if (this.bufferedBytes <= this.#highWaterMark) return RESOLVED;
    if (this.#isClosed) return rejectedHandled(this.#closedError());
    if (this.#drain === undefined) {
      this.#drain = deferred();
      this.#drain.promise.catch(noop);
    }
    return this.#drain.promise;
  }

  end(): Promise<void> {
    if (this.#ending === undefined) {
      if (this.#error !== undefined) return rejectedHandled(this.#error);
      this.#writable = false;
      if (this.#isClosed) {
        this.#ending = RESOLVED;
      } else if (this.#socket.destroyed) {
        // destroy() was called and 'close' is on its way: end()'s callback would never run.
        this.#ending = rejectedHandled(this.#closedError());
      } else {
        this.#flush();
        this.#trace?.({ type: "shutdown", how: "SHUT_WR", fd: this.#fd });
        const ending = deferred<void>();
        this.#socket.end((err?: Error | null) => {
          if (err) ending.reject(this.#error ?? this.#closedError());
          else ending.resolve();
        });
        ending.promise.catch(noop);
        this.#ending = ending.promise;
      }
    }
    return this.#ending;
  }

  close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing === undefined) {
      const { timeoutMs } = withDefaults({ timeoutMs: DEFAULT_CLOSE_TIMEOUT_MS }, options);
      checkInteger("timeoutMs", timeoutMs, 0, MAX_TIMER_MS);
      this.#stopReading(false);
      this.#closing = this.#closeWithin(timeoutMs);
    }
    return this.#closing;
  }

  destroy(error?: Error): void {
    if (this.#isClosed) return;
    if (error !== undefined) {
      this.#fail(explain(error, { endpoint: formatAddress(this.remote) }), false);
    } else {
      this.#writable = false;
      this.#socket.destroy();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<M> {
    return new Messages(this);
  }

  static {
    nextMessage = (connection) => connection.#next();
    onSocketData = function (chunk) {
      this[CONNECTION].#onData(chunk);
    };
    onSocketEnd = function () {
      this[CONNECTION].#onEnd();
    };
    onSocketError = function (err) {
      this[CONNECTION].#onError(err);
    };
    onSocketTimeout = function () {
      this[CONNECTION].#onTimeout();
    };
    onSocketClose = function () {
      this[CONNECTION].#onClose();
    };
    flushConnection = (connection) => connection.#flush();
    feedAgain = (connection) => {
      connection.#feedScheduled = false;
      connection.#feedListener();
    };
    onFrameTimer = (connection) => connection.#onFrameTimer();
  }

  /**
   * Fails the connection because its server's byte budget is full and it holds the most: the
   * server calls this.
   */
  dropForBudget(maxBufferedBytes: number): void {
    const held = this.#heldBytes.toLocaleString("en-US");
    const error = new SocketError(
      ErrorCode.ERR_BUFFER_BUDGET,
      `connection to ${formatAddress(this.remote)} was closed: the server's budget of ${maxBufferedBytes.toLocaleString("en-US")} bytes for partial messages and unsent replies was full, and it held the most (${held} bytes)`,
      {
        hint: "A peer must finish the messages it starts and read the replies it is sent; raise maxBufferedBytes if many peers legitimately send or receive large messages at once.",
      },
    );
    this.#guard?.dropped(this.remote, "max-buffered-bytes", error);
    this.#fail(error, true);
  }

  /**
   * The server is closing: messages already received are still delivered, bytes arriving from
   * now on are dropped. With `endWhenDrained`, our side ends when the loop has taken them all.
   */
  shutdown(endWhenDrained: boolean): void {
    if (this.#isClosed) return;
    this.#endWhenDrained = endWhenDrained;
    this.#stopReading(true);
  }

  async #closeWithin(timeoutMs: number): Promise<void> {
    if (this.#isClosed) return;
    const timer = setTimeout(() => this.destroy(), timeoutMs);
    // Not awaited: 'close' comes however the end goes (a destroyed socket never calls end()'s
    // callback), and a failure while ending is already recorded; close() never rejects.
    this.end().catch(noop);
    await this.closed;
    clearTimeout(timer);
  }

  #stopReading(keepQueued: boolean): void {
    this.#discard = true;
    this.#stopFrameTimer();
    if (!keepQueued) this.#queue.clear();
    this.#readDone = true;
    if (this.#queue.length === 0) this.#settleReaders();
    // Keep reading (and dropping) so that the peer's end arrives and the socket can close.
    this.#resume();
  }

  #next(): Promise<IteratorResult<M>> {
    if (this.#listener !== undefined) return this.#readTwice();
    if (this.#queue.length > 0) {
      // A burst of messages from one read is handed out a batch per turn of the event loop, so
      // other connections' reads and timers run between batches.
      if (++this.#turnMessages > this.#maxMessagesPerTurn) {
        this.#turnMessages = 0;
        return new Promise(this.#nextTurn);
      }
      const value = this.#queue.shift() as M;
      if (this.#queue.length === 0) this.#resume();
      return Promise.resolve({ value, done: false });
    }
    if (this.#readDone) {
      const error = this.#readError;
      if (error !== undefined) {
        this.#readError = undefined;
        return Promise.reject(error);
      }
      if (this.#endWhenDrained) this.end().catch(noop);
      return Promise.resolve(DONE);
    }
    // The loop is about to wait for the peer: what it sent goes out now rather than at the end
    // of the tick, so a request or a reply is on the wire before anything else runs.
    if (this.#unflushed > 0) this.#flush();
    this.#turnMessages = 0;
    return new Promise(this.#wait);
  }

  /** Answers a `next()` in the next turn of the event loop (a Promise executor made once). */
  readonly #nextTurn = (resolve: (result: Promise<IteratorResult<M>>) => void): void => {
    setImmediate(() => resolve(this.#next()));
  };

  /** Queues a `next()` that waits for a message (a Promise executor made once, not per call). */
  readonly #wait = (
    resolve: (result: IteratorResult<M>) => void,
    reject: (error: unknown) => void,
  ): void => {
    this.#readers.push({ resolve, reject });
  };

  #readTwice(): Promise<never> {
    return Promise.reject(
      new TypeError(
        "this connection is already read by a for await loop or each(); read it in one place at a time",
      ),
    );
  }

  /** Answers every waiting `next()`, or `each()`, once nothing more will arrive. */
  #settleReaders(): void {
    const listening = this.#listener !== undefined;
    // A busy listener is settled once it has taken the queue.
    if (listening ? this.#listenerBusy : this.#readers.length === 0) return;
    const error = this.#readError;
    this.#readError = undefined;
    if (listening) {
      if (error === undefined) this.#stopListening();
      else this.#failListening(error);
    } else {
      for (let reader = this.#readers.shift(); reader; reader = this.#readers.shift()) {
        if (error === undefined) reader.resolve(DONE);
        else reader.reject(error);
      }
    }
    if (error === undefined && this.#endWhenDrained) this.end().catch(noop);
  }

  #deliver(messages: M[]): void {
    const count = messages.length;
    if (count === 0) return;
    this.stats.messagesReceived += count;
    let i = 0;
    if (this.#listener === undefined) {
      for (let reader = this.#readers.shift(); reader; reader = this.#readers.shift()) {
        reader.resolve({ value: messages[i++] as M, done: false });
        if (i === count) return;
      }
    }
    for (; i < count; i++) this.#queue.push(messages[i] as M);
    if (this.#listener !== undefined) {
      this.#feedListener();
      if (this.#queue.length === 0) return;
    }
    if (!this.#paused) {
      // The loop is slower than the network: stop reading until it has caught up, so the
      // kernel's buffers fill and the sender's send() waits (backpressure, bounded memory).
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /**
   * Hands the queued messages to the listener, one by one, until it returns a promise or stops;
   * then flushes what it sent, and settles `each()` once nothing more will come.
   */
  #feedListener(): void {
    let handed = 0;
    while (this.#queue.length > 0 && this.#listener !== undefined && !this.#listenerBusy) {
      if (handed === this.#maxMessagesPerTurn) {
        // The rest in a later turn, after other connections' reads; the socket stays paused.
        if (!this.#feedScheduled) {
          this.#feedScheduled = true;
          setImmediate(feedAgain, this.#shared);
        }
        break;
      }
      handed++;
      this.#callListener(this.#queue.shift() as M);
    }
    // What the listener sent goes out now, in one write, before the read that brought the
    // messages returns.
    if (this.#unflushed > 0) this.#flush();
    if (this.#queue.length > 0) return; // the listener is busy or stopped: the rest waits
    this.#resume();
    if (this.#readDone) this.#settleReaders();
  }

  #callListener(message: M): void {
    let result: unknown;
    try {
      result = (this.#listener as (message: M) => unknown)(message);
    } catch (err) {
      this.#failListening(err);
      return;
    }
    if (isPromiseLike(result)) {
      this.#listenerBusy = true;
      // Promise.resolve() also makes a thenable whose then() throws reject, not throw here.
      // The callbacks are made here, not per connection: most listeners return nothing.
      Promise.resolve(result).then(
        () => {
          this.#listenerBusy = false;
          this.#feedListener();
        },
        (error: unknown) => this.#failListening(error),
      );
    }
  }

  /** Ends `each()` well: what arrives from now on waits for the next reader. */
  #stopListening(): void {
    const listening = this.#listening;
    this.#clearListener();
    listening?.resolve();
  }

  /** Ends `each()` with `error`. */
  #failListening(error: unknown): void {
    const listening = this.#listening;
    this.#clearListener();
    listening?.reject(error);
  }

  #clearListener(): void {
    this.#listener = undefined;
    this.#listenerBusy = false;
    this.#listening = undefined;
  }

  #resume(): void {
    if (this.#queuedBytes > 0 && this.#queue.length === 0) {
      this.#queuedBytes = 0;
      this.#account();
    }
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
      if (this.#watchesFrames && !this.#discard) {
        // Time we did not read because our own loop was behind is not the peer's: it starts over.
        this.#messageStart = performance.now();
        this.#watchFrame(false);
      }
    }
  }

  /**
   * Keeps the frame deadline after a read: it runs while a message is incomplete and starts
   * over when a message completes (`progress`). The timer is only moved lazily: it fires at the
   * earliest moment a limit could be passed, and `#onFrameTimer()` checks and sets it again.
   */
  #watchFrame(progress: boolean): void {
    const decoder = this.#decoder;
    if (!(decoder.incomplete ?? decoder.bufferedBytes > 0)) {
      this.#stopFrameTimer();
    } else if (this.#frameTimer === undefined) {
      this.#messageStart = performance.now();
      this.#frameTimer = setTimeout(onFrameTimer, this.#nextFrameCheck(0, 0), this.#shared);
    } else if (progress) {
      this.#messageStart = performance.now();
    }
  }

  /**
   * Milliseconds from now, `elapsed` ms into a message of which `bytes` have arrived, until the
   * frame deadline or the minimum data rate could next be passed.
   */
  #nextFrameCheck(elapsed: number, bytes: number): number {
    let at = this.#frameTimeoutMs > 0 ? this.#frameTimeoutMs : Number.POSITIVE_INFINITY;
    if (this.#minDataRate > 0) {
      at = Math.min(at, Math.max(this.#minDataRateGraceMs, (bytes * 1000) / this.#minDataRate));
    }
    return Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(at - elapsed)));
  }

  /**
   * The frame timer fired: fails the connection when the message in progress is past its
   * deadline or under the minimum rate, otherwise sets the timer again. While the socket is
   * paused the time counts against the peer only when it is not reading our replies (more
   * than the high-water mark unsent); when our own loop is behind, the deadline starts over.
   */
  #onFrameTimer(): void {
    this.#frameTimer = undefined;
    const decoder = this.#decoder;
    if (this.#discard || this.#isClosed || !(decoder.incomplete ?? decoder.bufferedBytes > 0)) {
      return;
    }
    const now = performance.now();
    const peerNotReading = this.#paused && this.bufferedBytes > this.#highWaterMark;
    if (this.#paused && !peerNotReading) this.#messageStart = now;
    const elapsed = now - this.#messageStart;
    const bytes = decoder.bufferedBytes;
    if (this.#frameTimeoutMs > 0 && elapsed >= this.#frameTimeoutMs) {
      this.#onFrameTimeout(peerNotReading);
      return;
    }
    if (
      !this.#paused &&
      this.#minDataRate > 0 &&
      elapsed >= this.#minDataRateGraceMs &&
      bytes * 1000 < this.#minDataRate * elapsed
    ) {
      this.#onTooSlow(bytes, elapsed);
      return;
    }
    this.#frameTimer = setTimeout(onFrameTimer, this.#nextFrameCheck(elapsed, bytes), this.#shared);
  }

  #stopFrameTimer(): void {
    if (this.#frameTimer !== undefined) {
      clearTimeout(this.#frameTimer);
      this.#frameTimer = undefined;
    }
  }

  #newSlab(length: number): void {
    if (this.#end > this.#start) {
      this.#seal(this.#unwritten());
      this.#slabBytes = Math.min(2 * this.#slabBytes, MAX_SLAB_BYTES);
    }
    const size = Math.max(this.#slabBytes, length);
    this.#slab = (size === MIN_SLAB_BYTES && SPARE_SLABS.pop()) || Buffer.allocUnsafe(size);
    this.#start = 0;
    this.#end = 0;
  }

  /**
   * Queues a message bigger than the high-water mark without copying it: its header goes into
   * the slab, its bytes are written from the caller's buffers, in the same flush. Unless the
   * kernel takes them at once, send() then returns the drain promise, which resolves only once
   * it has.
   */
  #appendUncopied(message: M, length: number): void {
    const encodeHeader = this.#framing.encodeHeader as NonNullable<Framing<M>["encodeHeader"]>;
    // The message's own bytes: the message, or the pieces of a `lengthPrefixedPieces()` frame.
    const payload = (Array.isArray(message) ? message : [message]) as Uint8Array[];
    let payloadBytes = 0;
    for (const piece of payload) payloadBytes += piece.byteLength;
    const headerBytes = length - payloadBytes;
    if (this.#slab.length - this.#end < headerBytes) this.#newSlab(headerBytes);
    this.#end = encodeHeader(message, this.#slab, this.#end);
    this.#seal(this.#unwritten());
    for (const piece of payload) if (piece.byteLength > 0) this.#seal(asBuffer(piece));
    this.#start = this.#end;
  }

  /** Queues `bytes` for this tick's flush (the array is made only when a tick needs one). */
  #seal(bytes: Buffer): void {
    if (this.#sealed === undefined) this.#sealed = [bytes];
    else this.#sealed.push(bytes);
  }

  /** The slab's bytes from `#start` to `#end`: encoded, not yet written. */
  #unwritten(): Buffer {
    const slab = this.#slab;
    return bufferView(slab.buffer, slab.byteOffset + this.#start, this.#end - this.#start);
  }

  /** Writes everything `send()` accepted since the last flush, as one write (or one writev). */
  #flush(): void {
    this.#flushScheduled = false;
    const bytes = this.#unflushed;
    if (bytes === 0) return;
    const sealed = this.#sealed;
    const tail = this.#end > this.#start ? this.#unwritten() : undefined;
    this.#start = this.#end;
    this.#unflushed = 0;
    this.#sealed = undefined;
    const socket = this.#socket;
    if (socket.destroyed) return;
    this.#writesInFlight++;
    if (sealed === undefined) {
      // The usual case, one slab's worth: a single write, no array.
      socket.write(tail as Buffer, this.#afterWrite);
    } else {
      if (tail !== undefined) sealed.push(tail);
      socket.cork();
      for (const chunk of sealed) socket.write(chunk);
      socket.uncork();
      // No callback on the corked writes: Node wraps any in a new closure and schedules a tick
      // per writev (a frame over the high-water mark is one writev each). Nothing left in the
      // socket means the kernel took it all (or the write failed: `errored`); otherwise an
      // empty write queued behind it reports when it has.
      if (socket.writableLength === 0) this.#afterWrite(socket.errored);
      else socket.write(EMPTY, this.#afterWrite);
    }
    this.stats.bytesSent += bytes;
    this.#trace?.({ type: "send", bytes, fd: this.#fd });
    if (this.#guard !== undefined) this.#account();
  }

  /**
   * Brings this connection's share of its server's budget up to date: partial message, queued
   * messages, unsent replies. Runs once per read, flush and completed write, never per message.
   * Over the budget, the server drops the connection that holds the most.
   */
  #account(): void {
    const guard = this.#guard;
    if (guard === undefined || this.#released) return;
    const held =
      this.#decoder.bufferedBytes +
      this.#queuedBytes +
      this.#unflushed +
      this.#socket.writableLength;
    guard.heldBytes += held - this.#heldBytes;
    this.#heldBytes = held;
    if (guard.heldBytes > guard.maxBufferedBytes) guard.overBudget();
  }

  /** Gives back this connection's share of the budget: it failed or closed. */
  #release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#guard !== undefined) this.#guard.heldBytes -= this.#heldBytes;
    this.#heldBytes = 0;
  }

  /**
   * Runs when a flush has reached the kernel (or failed): the slab may be reused, and senders
   * waiting for the high-water mark may go on.
   */
  readonly #afterWrite = (error?: Error | null): void => {
    if (--this.#writesInFlight === 0 && this.#unflushed === 0) {
      this.#start = 0;
      this.#end = 0;
      // Idle: keep a grown slab for the next burst, but not a first one (10,000 quiet
      // connections would hold 20 MiB) nor one that a single big message made oversized.
      const size = this.#slab.length;
      if (size === MIN_SLAB_BYTES && SPARE_SLABS.length < MAX_SPARE_SLABS) {
        SPARE_SLABS.push(this.#slab);
      }
      if (size <= MIN_SLAB_BYTES || size > MAX_SLAB_BYTES) this.#slab = EMPTY;
    }
    // A failed write: the socket is being destroyed, and its 'error' or 'close' rejects the
    // senders waiting for the drain; it must not look drained to them first.
    if (error) return;
    if (this.#guard !== undefined) this.#account();
    const drain = this.#drain;
    if (drain !== undefined && this.bufferedBytes <= this.#highWaterMark) {
      this.#drain = undefined;
      drain.resolve();
    }
  };

  #onData(chunk: Buffer): void {
    this.stats.bytesReceived += chunk.length;
    this.#trace?.({ type: "recv", bytes: chunk.length, fd: this.#fd });
    if (this.#discard) return;
    const heldBefore = this.#decoder.bufferedBytes;
    let messages: M[];
    try {
      messages = this.#decoder.push(chunk);
    } catch (err) {
      // A protocol error: reset, so the peer learns at once that its data was not taken.
      this.#fail(explain(err), true);
      return;
    }
    this.#deliver(messages);
    if (this.#watchesFrames) this.#watchFrame(messages.length > 0);
    if (this.#guard !== undefined) {
      // The messages left queued are views of (or copies of) at most these bytes.
      if (this.#queue.length > 0) {
        this.#queuedBytes += heldBefore + chunk.length - this.#decoder.bufferedBytes;
      }
      this.#account();
    }
  }

  #onEnd(): void {
    this.#trace?.({ type: "recv", bytes: 0, fd: this.#fd }); // read() = 0: the peer shut down
    this.#stopFrameTimer(); // the peer sends no more: no message of it can still be late
    if (!this.#discard) {
      try {
        this.#deliver(this.#decoder.end());
      } catch (err) {
        this.#fail(explain(err), false);
        return;
      }
    }
    this.#readDone = true;
    if (this.#queue.length === 0) this.#settleReaders();
  }

  #onError(err: Error): void {
    this.#fail(explain(err, { endpoint: formatAddress(this.remote) }), false);
  }

  #onTimeout(): void {
    const where = formatAddress(this.remote);
    this.#fail(
      new SocketError(
        ErrorCode.ERR_TIMEOUT,
        `connection to ${where} was idle for ${this.#idleTimeoutMs} ms and was closed`,
        { hint: "Send something more often than idleTimeoutMs, or raise idleTimeoutMs." },
      ),
      false,
    );
  }

  #onFrameTimeout(peerNotReading: boolean): void {
    const what = this.#framing.name === "lines" ? "line" : "frame";
    const bytes = this.#decoder.bufferedBytes.toLocaleString("en-US");
    const why = peerNotReading
      ? ` while it left ${this.bufferedBytes.toLocaleString("en-US")} bytes of our replies unread`
      : "";
    this.#fail(
      new SocketError(
        ErrorCode.ERR_TIMEOUT,
        `connection to ${formatAddress(this.remote)} sent ${bytes} bytes of a ${what} and did not finish it within ${this.#frameTimeoutMs} ms${why}; closed`,
        {
          hint: "A peer must send each message whole within frameTimeoutMs, and read the replies it is sent (this stops slow-loris clients); raise frameTimeoutMs if large messages come over slow links.",
        },
      ),
      false,
    );
  }

  #onTooSlow(bytes: number, elapsed: number): void {
    const what = this.#framing.name === "lines" ? "line" : "frame";
    const error = new SocketError(
      ErrorCode.ERR_TIMEOUT,
      `connection to ${formatAddress(this.remote)} sent ${bytes.toLocaleString("en-US")} bytes of a ${what} in ${Math.round(elapsed)} ms, under the minimum of ${this.#minDataRate.toLocaleString("en-US")} bytes/s; closed`,
      {
        hint: "A peer must keep sending a message it has started at minDataRate bytes per second or more (this stops slow-loris clients that finish each message just in time); lower minDataRate for slow links.",
      },
    );
    this.#guard?.dropped(this.remote, "min-data-rate", error);
    this.#fail(error, false);
  }

  /**
   * Traces close(fd) now if the socket is destroyed already: destroy() closes the descriptor at
   * once, and Node reports 'close' a few ticks later (over TLS, later still). The server calls
   * this before it closes its listening socket, so the trace keeps the calls' order.
   */
  traceCloseIfDestroyed(): void {
    if (this.#socket.destroyed) this.#traceClose();
  }

  /** Traces close(fd), once. */
  #traceClose(): void {
    if (this.#closeTraced) return;
    this.#closeTraced = true;
    this.#trace?.({ type: "close", remote: this.remote, fd: this.#fd });
  }

  #onClose(): void {
    this.#stopFrameTimer();
    this.#release();
    this.#isClosed = true;
    this.#writable = false;
    this.#traceClose();
    this.#readDone = true;
    if (this.#queue.length === 0) this.#settleReaders();
    this.#drain?.reject(this.#error ?? this.#closedError());
    this.#drain = undefined;
    this.#resolveClosed();
    this.#onClosed?.(this);
  }

  /** Records the first failure, hands it to the loop and to waiting senders, destroys the socket. */
  #fail(error: SocketError, reset: boolean): void {
    if (this.#error !== undefined || this.#isClosed) return;
    this.#error = error;
    this.#writable = false;
    this.#stopFrameTimer();
    this.#release();
    if (!this.#readDone) {
      this.#readDone = true;
      this.#readError = error;
      if (this.#queue.length === 0) this.#settleReaders();
    }
    this.#drain?.reject(error);
    this.#drain = undefined;
    // resetAndDestroy() sends a TCP RST; unix sockets have none (their peer sees ECONNRESET
    // when unread data is dropped).
    if (reset && this.local.transport === "tcp") this.#socket.resetAndDestroy();
    else this.#socket.destroy();
  }

  #closedError(): SocketError {
    return new SocketError(
      ErrorCode.ERR_SOCKET_CLOSED,
      `connection to ${formatAddress(this.remote)} is closed for sending`,
      { hint: "Send before calling end() or close(), or open a new connection." },
    );
  }
}
