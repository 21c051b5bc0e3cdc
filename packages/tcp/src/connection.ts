/**
 * One stream connection, the same on both sides: the socket `accept()` hands a server and the
 * socket a client `connect()`s. Messages go out through a framing and come back through it.
 */

import type { Socket } from "node:net";
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  descriptorOf,
  type Endpoint,
  type SocketError,
  type TraceListener,
} from "@socket-lab/core";
import {
  checkInteger,
  checkSignal,
  MAX_TIMER_MS,
  raceAbort,
  withDefaults,
} from "@socket-lab/core/internal";
import type { Framing } from "./framing.js";
import { dropForBudget } from "./internal/connection-budget.js";
import {
  close,
  destroy,
  end,
  open,
  shutdown,
  traceClose,
} from "./internal/connection-lifecycle.js";
import { ConnectionState } from "./internal/connection-state.js";
import { noop } from "./internal/promises.js";
import { each, Messages } from "./internal/receive-queue.js";
import { bufferedBytes, drain, send, sendWith, write } from "./internal/send-buffer.js";
import { type TlsInfo, tlsInfoOf } from "./tls.js";

/**
 * Default most bytes a connection buffers before `send()` makes its caller wait for 'drain':
 * 64 KiB, the size of one full write on loopback. Counted as `bufferedBytes`.
 * @example
 * await using server = await listen(":0", { highWaterMark: 4 * DEFAULT_HIGH_WATER_MARK });
 */
export const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/**
 * Default most messages a connection hands to its reader in one turn of the event loop before
 * it yields (`setImmediate`), so that one peer's burst cannot keep the others waiting: one
 * 64 KiB read of empty lines is 65,536 messages.
 * @example
 * await using server = await listen(":0", { maxMessagesPerTurn: 256 }); // fairer still, a little slower per message
 */
export const DEFAULT_MAX_MESSAGES_PER_TURN = 1_024;

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
  /** Byte and message counters: a snapshot, taken when read. */
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
  each(listener: (message: M) => unknown): Promise<void>;
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

let lastId = 0;

/**
 * The {@link Connection} implementation over a node:net socket: the public surface. Its state
 * and the work live in `internal/`: the send buffer, the receive queue and the lifecycle. Not
 * exported from the package.
 */
export class TcpConnection<M> implements Connection<M> {
  readonly id = ++lastId;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly #stats = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 };
  readonly closed: Promise<void>;
  readonly #state: ConnectionState<M>;

  constructor(setup: ConnectionSetup<M>) {
    this.local = setup.local;
    this.remote = setup.remote;
    let resolveClosed = noop;
    this.closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    this.#state = new ConnectionState(this, setup, this.#stats, this.closed, resolveClosed);
    open(this.#state);
  }

  get stats(): ConnectionStats {
    return { ...this.#stats };
  }

  get fd(): number | undefined {
    return descriptorOf(this.#state.socket);
  }

  get socket(): Socket {
    return this.#state.socket;
  }

  unref(): this {
    this.#state.socket.unref();
    return this;
  }

  ref(): this {
    this.#state.socket.ref();
    return this;
  }

  get tls(): TlsInfo | undefined {
    return tlsInfoOf(this.#state.socket);
  }

  get bufferedBytes(): number {
    return bufferedBytes(this.#state);
  }

  /** Bytes this connection holds, as counted against its server's `maxBufferedBytes`. */
  get heldBytes(): number {
    return this.#state.heldBytes;
  }

  send(message: M, options?: SendOptions): Promise<void> {
    return options === undefined
      ? send(this.#state, message)
      : sendWith(this.#state, message, options);
  }

  write(message: M): boolean {
    return write(this.#state, message);
  }

  each(listener: (message: M) => unknown): Promise<void> {
    return each(this.#state, listener);
  }

  drain(options?: SendOptions): Promise<void> {
    if (options === undefined) return drain(this.#state);
    try {
      checkSignal(options.signal, "options.signal");
    } catch (err) {
      return Promise.reject(err);
    }
    return raceAbort(drain(this.#state), options.signal);
  }

  end(): Promise<void> {
    return end(this.#state);
  }

  close(options: CloseOptions = {}): Promise<void> {
    const s = this.#state;
    if (s.closing !== undefined) return s.closing;
    const { timeoutMs } = withDefaults({ timeoutMs: DEFAULT_CLOSE_TIMEOUT_MS }, options);
    checkInteger("timeoutMs", timeoutMs, 0, MAX_TIMER_MS);
    return close(s, timeoutMs);
  }

  destroy(error?: Error): void {
    destroy(this.#state, error);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<M> {
    return new Messages(this.#state);
  }

  /**
   * Fails the connection because its server's byte budget is full and it holds the most: the
   * server calls this.
   */
  dropForBudget(maxBufferedBytes: number): void {
    dropForBudget(this.#state, maxBufferedBytes);
  }

  /**
   * The server is closing: messages already received are still delivered, bytes arriving from
   * now on are dropped. With `endWhenDrained`, our side ends when the loop has taken them all.
   */
  shutdown(endWhenDrained: boolean): void {
    shutdown(this.#state, endWhenDrained);
  }

  /**
   * Traces close(fd) now if the socket is destroyed already: destroy() closes the descriptor at
   * once, and Node reports 'close' a few ticks later (over TLS, later still). The server calls
   * this before it closes its listening socket, so the trace keeps the calls' order.
   */
  traceCloseIfDestroyed(): void {
    if (this.#state.socket.destroyed) traceClose(this.#state);
  }
}
