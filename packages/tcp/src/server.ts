/**
 * A stream server: socket → bind → listen(backlog) → accept, one {@link Connection} per client,
 * with a connection limit, an idle timeout and a graceful close.
 */

import { EventEmitter } from "node:events";
import { closeSync, openSync } from "node:fs";
import { chmod, lstat, unlink } from "node:fs/promises";
import net from "node:net";
import { devNull } from "node:os";
import { dirname } from "node:path";
import {
  DEFAULT_BACKLOG,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  descriptorOf,
  type Endpoint,
  explain,
  formatAddress,
  SocketError,
  type TraceListener,
} from "@socket-lab/core";
import {
  abortReason,
  checkFunction,
  checkInteger,
  checkOnError,
  checkSignal,
  type Deferred,
  DONE,
  deferred,
  invalidArgValue,
  MAX_TIMER_MS,
  onAbort,
  RingQueue,
  reportError,
  throwIfAborted,
  withDefaults,
} from "@socket-lab/core/internal";
import {
  type CloseOptions,
  type Connection,
  type ConnectionGuard,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_MESSAGES_PER_TURN,
  type DropReason,
  TcpConnection,
} from "./connection.js";
import type { Framing } from "./framing.js";
import { socketEndpoints, streamAttributes, streamEndpoint } from "./internal/endpoints.js";
import { checkFraming } from "./internal/options.js";
import { noop } from "./internal/promises.js";
import { lines } from "./line-framing.js";
import {
  applySocketSettings,
  type SocketControls,
  type SocketSettings,
  socketSettings,
} from "./socket-controls.js";
import {
  checkTlsServerOptions,
  createTlsServer,
  type TlsServerOptions,
  traceHandshake,
} from "./tls.js";

/**
 * Default permissions of a unix socket file: read and write for its owner only.
 * @example
 * const path = `/tmp/app-${process.pid}.sock`;
 * await using server = await listen(`unix://${path}`, { unixSocketMode: DEFAULT_UNIX_SOCKET_MODE | 0o060 }); // and its group
 */
export const DEFAULT_UNIX_SOCKET_MODE = 0o600;

/**
 * Default time a connection may take to deliver one message whole once its first byte has
 * arrived, in ms: 30 seconds.
 * @example
 * await using server = await listen(":0", { frameTimeoutMs: 4 * DEFAULT_FRAME_TIMEOUT_MS }); // 8 MiB frames over a slow link
 */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;

/**
 * Default most bytes a server holds for all its peers together, in bytes: 64 MiB. It counts
 * partial messages, messages received and not yet taken by the application, and replies not
 * yet taken by the kernel. Over it, the connection holding the most is dropped.
 * @example
 * await using server = await listen(":0", { framing: lengthPrefixed(), maxBufferedBytes: 4 * DEFAULT_MAX_BUFFERED_BYTES });
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/**
 * Default most connections open at once from one IP address: 256, a quarter of
 * `DEFAULT_MAX_CONNECTIONS`, so one host cannot take every slot.
 * @example
 * await using server = await listen(":0", { maxConnectionsPerAddress: 2 * DEFAULT_MAX_CONNECTIONS_PER_ADDRESS });
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;

/**
 * Default least rate at which a message must keep arriving once it has been in progress for
 * `DEFAULT_MIN_DATA_RATE_GRACE_MS`, in bytes per second: 512.
 * @example
 * await using server = await listen(":0", { minDataRate: 0 }); // no minimum: only frameTimeoutMs bounds a message
 */
export const DEFAULT_MIN_DATA_RATE = 512;

/**
 * Default time a message may take before `minDataRate` applies to it, in ms: 5 seconds.
 * @example
 * DEFAULT_MIN_DATA_RATE_GRACE_MS //=> 5000
 */
export const DEFAULT_MIN_DATA_RATE_GRACE_MS = 5_000;

/** How long a turned-away connection may take to end its side before it is destroyed, in ms. */
const REJECT_LINGER_MS = 1_000;

/**
 * How long `close()` still waits, after its deadline destroyed the connections left, for the
 * handler calls still running to notice and settle, in ms.
 */
const SETTLE_AFTER_DESTROY_MS = 1_000;

/**
 * How {@link listen} sets up a server and its connections.
 * @example
 * const options: ServerOptions<string> = {
 *   framing: lines({ maxLineBytes: 1_024 }),
 *   maxConnections: 100,
 *   idleTimeoutMs: 60_000,
 *   handler: async (connection) => {
 *     for await (const line of connection) await connection.send(line);
 *   },
 * };
 */
export interface ServerOptions<M = string> extends SocketControls {
  /** How messages are written to and read from each connection's byte stream. @default lines() */
  framing?: Framing<M>;
  /**
   * Length of the kernel's queue of connections waiting for `accept()`, in connections; the
   * kernel caps it at `net.core.somaxconn`.
   * @default DEFAULT_BACKLOG (511)
   */
  backlog?: number;
  /**
   * Most connections open at once. One more is closed as soon as it is accepted, counted in
   * `stats.rejected` and reported as a 'reject' event; open connections are not affected.
   * @default DEFAULT_MAX_CONNECTIONS (1024)
   */
  maxConnections?: number;
  /**
   * Time a connection may go without reading or writing anything before it fails with
   * `ERR_TIMEOUT` and is closed, in ms; 0 disables.
   * @default DEFAULT_IDLE_TIMEOUT_MS (120000, 2 minutes)
   */
  idleTimeoutMs?: number;
  /**
   * Time a connection may take to deliver one message (a line, a frame) whole once its first
   * byte has arrived, in ms; past it the connection fails with `ERR_TIMEOUT` and is closed.
   * 0 disables. The idle timeout alone cannot stop a slow-loris peer, which keeps a connection
   * busy forever by sending a byte now and then and never finishing a message. The deadline
   * runs from the first byte of a message, a length header included (a header and then nothing
   * is caught too). Time the server does not read because its own loop is behind (the socket is
   * paused while replies flow) does not count; time it does not read because the peer does not
   * read its replies (more than `highWaterMark` of them unsent) does.
   * @default DEFAULT_FRAME_TIMEOUT_MS (30000, 30 seconds)
   */
  frameTimeoutMs?: number;
  /**
   * Least average rate at which a message must arrive, in bytes per second, once it has been
   * in progress for `minDataRateGraceMs`: a message of which fewer than `minDataRate × t` bytes
   * have come in its first t ms fails with `ERR_TIMEOUT`, and the connection is dropped
   * ('drop' event, reason `"min-data-rate"`). It stops peers that hold a connection by
   * finishing each message just before `frameTimeoutMs`. Messages sent whole (a line typed into
   * `nc`) are never affected; 0 disables.
   * @default DEFAULT_MIN_DATA_RATE (512 bytes/s)
   */
  minDataRate?: number;
  /**
   * Time a message may take before `minDataRate` applies to it, in ms.
   * @default DEFAULT_MIN_DATA_RATE_GRACE_MS (5000, 5 seconds)
   */
  minDataRateGraceMs?: number;
  /**
   * Most connections open at once from one IP address; one more is closed as soon as it is
   * accepted, counted in `stats.rejected` and reported as a 'reject' event with reason
   * `"max-connections-per-address"`. Unix socket peers have no address and are not counted.
   * @default DEFAULT_MAX_CONNECTIONS_PER_ADDRESS (256)
   */
  maxConnectionsPerAddress?: number;
  /**
   * Most bytes the server holds for all its peers together, in bytes: partial messages,
   * messages received and not yet taken by the application, and replies not yet taken by the
   * kernel. When a read or a write takes it over, the connection holding the most is reset
   * with `ERR_BUFFER_BUDGET`, counted in `stats.dropped` and reported as a 'drop' event with
   * reason `"max-buffered-bytes"`. Each connection is also bounded on its own by the framing's
   * limit and `highWaterMark`.
   * @default DEFAULT_MAX_BUFFERED_BYTES (67108864, 64 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Most messages a connection hands to the application in one turn of the event loop; then
   * it yields (`setImmediate`) so that other connections are served, and goes on. One 64 KiB
   * read can hold 65,536 empty lines.
   * @default DEFAULT_MAX_MESSAGES_PER_TURN (1024)
   */
  maxMessagesPerTurn?: number;
  /**
   * Receives each connection instead of the server's async iterator. When it returns (or its
   * promise settles) the connection is closed gracefully. An error it throws is reported as
   * an error to `onError` with the thrown error as `cause` and its stack, never fatal. `close()`
   * waits for every call still running.
   * @default undefined (connections are read with `for await (const c of server)`)
   */
  handler?: (connection: Connection<M>) => void | Promise<void>;
  /** Receives socket, bind, listen, accept, then per connection send, recv, shutdown, close. */
  trace?: TraceListener;
  /**
   * Receives each non-fatal server-level error, which belongs to no caller: accept failing
   * (EMFILE, …), a TLS handshake failing, or an error thrown by the handler (its `cause` is
   * what was thrown, and its `stack` the thrown error's).
   * @default none: 'error' listeners (deprecated) if any, else a process warning (a handler's
   *   with its stack); never a crash
   */
  onError?: (error: SocketError) => void;
  /**
   * Permissions given to a unix socket file right after it is created, as a mode such as
   * `0o660`. Ignored for tcp:// endpoints.
   * @default DEFAULT_UNIX_SOCKET_MODE (0o600, owner only)
   */
  unixSocketMode?: number;
  /**
   * Bytes a connection buffers before `send()` waits for 'drain', in bytes.
   * @default DEFAULT_HIGH_WATER_MARK (65536, 64 KiB)
   */
  highWaterMark?: number;
  /**
   * The certificate and key of a `tls://` server; required there, refused elsewhere. Each
   * accepted socket finishes its TLS handshake before it becomes a connection; one that fails
   * (a plain-TCP client, an untrusted certificate) is reported as an 'error' of the server.
   * @default undefined
   */
  tls?: TlsServerOptions;
  /**
   * Closes the server when it fires, as `server.close()` does (like `net.Server`'s `listen({
   * signal })`). Fired before listening is done, `listen()` rejects with `signal.reason` (a
   * DOMException `AbortError` for `controller.abort()`) and nothing stays bound.
   * @default none
   */
  signal?: AbortSignal;
}

/**
 * Counters of a {@link Server}.
 * @example
 * await using server = await listen(":0", { maxConnections: 1 });
 * const rejected = new Promise((resolve) => server.once("reject", resolve));
 * await using first = await connect(server.endpoint);
 * await using second = await connect(server.endpoint);
 * await rejected;
 * server.stats //=> { accepted: 1, rejected: 1, closed: 0, dropped: 0 }
 */
export interface ServerStats {
  /** Connections accepted and handed out. */
  readonly accepted: number;
  /** Connections closed at once because `maxConnections` or `maxConnectionsPerAddress` were open. */
  readonly rejected: number;
  /** Accepted connections that have closed since. */
  readonly closed: number;
  /** Accepted connections closed for a server limit: `maxBufferedBytes`, `minDataRate`. */
  readonly dropped: number;
}

/**
 * What a 'reject' event tells about a connection closed at once: `"max-connections"` were
 * open, or `"max-connections-per-address"` from its address.
 * @example
 * import { formatAddress } from "@socket-lab/core";
 * await using server = await listen(":0", { maxConnections: 1 });
 * const rejected = new Promise<RejectInfo>((resolve) => server.once("reject", resolve)); // or server.on
 * await using first = await connect(server.endpoint);
 * await using second = await connect(server.endpoint);
 * const { remote, reason } = await rejected;
 * console.log(`${formatAddress(remote)}: ${reason}`);
 * //=> 127.0.0.1:51844: max-connections
 */
export interface RejectInfo {
  readonly remote: Endpoint;
  readonly reason: "max-connections" | "max-connections-per-address";
}

/**
 * What a 'drop' event tells about an accepted connection the server closed for one of its
 * limits: the budget was full and it held the most (`"max-buffered-bytes"`), or it sent a
 * message too slowly (`"min-data-rate"`). Its loop fails with `error` too.
 * @example
 * import { formatAddress } from "@socket-lab/core";
 * await using server = await listen(":0", { maxBufferedBytes: 1_024 }); // and nobody reads
 * const dropped = new Promise<DropInfo>((resolve) => server.once("drop", resolve)); // or server.on
 * await using client = await connect(server.endpoint);
 * await client.send("x".repeat(2_000));
 * const { remote, reason } = await dropped;
 * console.log(`${formatAddress(remote)}: ${reason}`);
 * //=> 127.0.0.1:51846: max-buffered-bytes
 */
export interface DropInfo {
  readonly remote: Endpoint;
  readonly reason: DropReason;
  readonly error: SocketError;
}

/**
 * How a server's connections, and the work it started for them, ended in `close()`.
 * @example
 * const server = await listen(":0");
 * const accepted = new Promise((resolve) => server.once("connection", resolve));
 * await using client = await connect(server.endpoint); // it never closes its side
 * await accepted;
 * await server.close({ timeoutMs: 1_000 }) //=> { ended: 0, destroyed: 1, unsettled: 0 }
 */
export interface CloseResult {
  /** Connections that closed by themselves before the deadline. */
  readonly ended: number;
  /** Connections destroyed at the deadline. */
  readonly destroyed: number;
  /**
   * Handler calls and `for await` loop bodies still running when `close()` stopped waiting
   * for them: loop bodies at its deadline, handler calls 1 second after it. They are left
   * running.
   */
  readonly unsettled: number;
}

/**
 * A listening stream server. Iterate it for connections (unless it has a `handler`); the
 * loop ends when the server closes.
 *
 * @example Fragment: the loop runs until the server closes; `serve` is yours
 * const server = await listen("tcp://127.0.0.1:0");
 * for await (const connection of server) serve(connection);
 */
export interface Server<M = string> extends AsyncIterable<Connection<M>>, AsyncDisposable {
  /** The bound endpoint, with the port the system chose when 0 was asked for. */
  readonly endpoint: Endpoint;
  /** Connections open now. */
  readonly connectionCount: number;
  /** Connection counters: a snapshot, taken when read. */
  readonly stats: ServerStats;
  /**
   * Lets the process exit while the server listens (`net.Server.unref()`): the listening socket
   * no longer keeps the event loop alive by itself. Open connections still do; unref them too
   * (`connection.unref()`). Returns the server.
   */
  unref(): this;
  /** Undoes `unref()`: the listening socket keeps the process alive again. */
  ref(): this;
  /** A connection was closed at once because `maxConnections` (or as many from its address) were open. */
  on(event: "reject", listener: (info: RejectInfo) => void): this;
  /** An accepted connection was closed for `maxBufferedBytes` or `minDataRate`. */
  on(event: "drop", listener: (info: DropInfo) => void): this;
  /**
   * @deprecated Give `listen()` an `onError` option: the one error channel of every long-lived
   * object. Listeners here get the same errors when there is no `onError`.
   */
  on(event: "error", listener: (err: SocketError) => void): this;
  /** A connection was accepted (before it goes to the handler or the iterator). */
  on(event: "connection", listener: (connection: Connection<M>) => void): this;
  /** Like `on`, for the next event only. */
  once(event: "reject", listener: (info: RejectInfo) => void): this;
  once(event: "drop", listener: (info: DropInfo) => void): this;
  once(event: "error", listener: (err: SocketError) => void): this;
  once(event: "connection", listener: (connection: Connection<M>) => void): this;
  /** Removes a listener added with `on` or `once`. */
  off(event: "reject", listener: (info: RejectInfo) => void): this;
  off(event: "drop", listener: (info: DropInfo) => void): this;
  off(event: "error", listener: (err: SocketError) => void): this;
  off(event: "connection", listener: (connection: Connection<M>) => void): this;
  /**
   * Stops accepting, then closes every connection gracefully: messages already received are
   * still delivered and the replies sent to them flushed, each connection is half-closed (its
   * peer sees the end of messages) and waits for the peer; bytes arriving after the close are
   * dropped. What is still open after `timeoutMs` is destroyed. Resolves once every connection
   * is closed and everything the server started has settled: each handler call, and each
   * `for await` loop body that holds a connection (until the loop asks for the next one or
   * leaves); a turn of the event loop later, so that code awaiting a connection's `close()` or
   * `closed` has run. A loop body still running at the deadline, or a handler call still
   * running 1 second after it, is counted as `unsettled` and no longer waited for. Idempotent.
   */
  close(options?: CloseOptions): Promise<CloseResult>;
  /** `close()`, for `await using server = await listen(…)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface ServerSettings {
  backlog?: number;
  maxConnections?: number;
  idleTimeoutMs?: number;
  frameTimeoutMs?: number;
  minDataRate?: number;
  minDataRateGraceMs?: number;
  maxConnectionsPerAddress?: number;
  maxBufferedBytes?: number;
  maxMessagesPerTurn?: number;
  unixSocketMode?: number;
  highWaterMark?: number;
}

const DEFAULTS: Required<ServerSettings> = {
  backlog: DEFAULT_BACKLOG,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  frameTimeoutMs: DEFAULT_FRAME_TIMEOUT_MS,
  minDataRate: DEFAULT_MIN_DATA_RATE,
  minDataRateGraceMs: DEFAULT_MIN_DATA_RATE_GRACE_MS,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
  maxMessagesPerTurn: DEFAULT_MAX_MESSAGES_PER_TURN,
  unixSocketMode: DEFAULT_UNIX_SOCKET_MODE,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
};

/**
 * Opens a stream server on `tcp://host:port`, `tcp://[v6]:port` or `unix:///path`: socket,
 * bind, listen. It binds exactly the address given (`:port` means 127.0.0.1). Port 0 lets the
 * system choose; `server.endpoint` tells which. A unix socket file left behind by a dead
 * server is removed first, but only when nothing answers on it; the new file gets
 * `unixSocketMode`.
 *
 * @throws {SocketError} (as a rejection) `EADDRINUSE` when another socket is bound there (a
 *   live unix server included), `EACCES`, `EADDRNOTAVAIL`, `ENOTSOCK` when a unix path is an
 *   ordinary file, `ERR_INVALID_ENDPOINT`; each with a hint.
 * @throws {TypeError|RangeError} for a bad option, naming it and its value.
 * @example
 * import { formatEndpoint } from "@socket-lab/core";
 * const server = await listen("tcp://127.0.0.1:0", {
 *   handler: async (connection) => {
 *     for await (const line of connection) await connection.send(`echo: ${line}`);
 *   },
 * });
 * console.log(formatEndpoint(server.endpoint));
 * //=> tcp://127.0.0.1:40215
 * await server.close();
 */
export async function listen<M = string>(
  endpoint: string | Endpoint,
  options: ServerOptions<M> = {},
): Promise<Server<M>> {
  const target = streamEndpoint(endpoint);
  const settings = withDefaults(DEFAULTS, options);
  checkInteger("backlog", settings.backlog, 0);
  checkInteger("maxConnections", settings.maxConnections, 1);
  checkInteger("idleTimeoutMs", settings.idleTimeoutMs, 0, MAX_TIMER_MS);
  checkInteger("frameTimeoutMs", settings.frameTimeoutMs, 0, MAX_TIMER_MS);
  checkInteger("minDataRate", settings.minDataRate, 0);
  checkInteger("minDataRateGraceMs", settings.minDataRateGraceMs, 0, MAX_TIMER_MS);
  checkInteger("maxConnectionsPerAddress", settings.maxConnectionsPerAddress, 1);
  checkInteger("maxBufferedBytes", settings.maxBufferedBytes, 0);
  checkInteger("maxMessagesPerTurn", settings.maxMessagesPerTurn, 1);
  checkInteger("unixSocketMode", settings.unixSocketMode, 0, 0o777);
  checkInteger("highWaterMark", settings.highWaterMark, 0);
  if (options.handler !== undefined) checkFunction("handler", options.handler);
  if (options.trace !== undefined) checkFunction("trace", options.trace);
  checkOnError(options.onError);
  const { signal } = options;
  checkSignal(signal);
  const controls = socketSettings(options);
  const framing = options.framing ?? (lines() as unknown as Framing<M>);
  checkFraming(framing);
  if (target.transport === "tls") checkTlsServerOptions(options.tls);
  else if (options.tls !== undefined) {
    throw invalidArgValue(
      "endpoint argument",
      formatAddress(target),
      'must be a tls:// endpoint when the "tls" option is given',
    );
  }
  const server = new TcpServer<M>(target, {
    ...settings,
    framing,
    handler: options.handler,
    trace: options.trace,
    onError: options.onError,
    tls: options.tls,
    controls,
  });
  throwIfAborted(signal);
  await server.bind();
  // Fired while binding: bind() is quick and cannot be cancelled half-way, so undo it.
  if (signal?.aborted === true) {
    await server.close();
    throw abortReason(signal);
  }
  server.closeOnAbort(signal);
  return server;
}

interface TcpServerSettings<M> extends Required<ServerSettings> {
  framing: Framing<M>;
  handler: ((connection: Connection<M>) => void | Promise<void>) | undefined;
  trace: TraceListener | undefined;
  onError: ((error: SocketError) => void) | undefined;
  tls: TlsServerOptions | undefined;
  controls: SocketSettings;
}

class TcpServer<M> extends EventEmitter implements Server<M> {
  endpoint: Endpoint;
  readonly #stats = { accepted: 0, rejected: 0, closed: 0, dropped: 0 };

  readonly #settings: TcpServerSettings<M>;
  readonly #unixPath: string | undefined;
  readonly #net: net.Server;
  /** Every open connection. */
  readonly #open = new Set<TcpConnection<M>>();
  /** Accepted connections the iterator has not handed out yet. */
  readonly #unclaimed = new Set<TcpConnection<M>>();
  /** Iterator `next()` calls waiting for a connection. */
  readonly #claimers = new RingQueue<Deferred<IteratorResult<Connection<M>>>>();
  #listenFailed: ((err: Error) => void) | undefined;
  #closing: Promise<CloseResult> | undefined;
  /** Out of file descriptors, and already reported: see `#probeDescriptors`. */
  #outOfDescriptors = false;
  #probeScheduled = false;
  /** Connections open per remote IP address (tcp only). */
  readonly #perAddress = new Map<string, number>();
  /** The byte budget all connections share, and where they report drops. */
  readonly #guard: ConnectionGuard;
  #enforcingBudget = false;
  /** Stops listening to `options.signal`. */
  #stopAbortListener: () => void = noop;
  /** Handler calls and loop bodies running now: `close()` waits for them. */
  readonly #running = new Set<Work>();

  constructor(target: Endpoint, settings: TcpServerSettings<M>) {
    super();
    this.endpoint = target;
    this.#settings = settings;
    this.#unixPath = target.transport === "unix" ? target.path : undefined;
    this.#guard = {
      heldBytes: 0,
      maxBufferedBytes: settings.maxBufferedBytes,
      overBudget: () => this.#overBudget(),
      dropped: (remote, reason, error) => {
        this.#stats.dropped++;
        this.emit("drop", { remote, reason, error } satisfies DropInfo);
      },
    };
    // allowHalfOpen: a peer's end only ends its messages; we may still reply, then end ours.
    this.#net =
      settings.tls === undefined
        ? net.createServer({ allowHalfOpen: true }, this.#onConnection)
        : createTlsServer(settings.tls, settings.frameTimeoutMs, settings.trace, {
            onSecure: this.#onConnection,
            onFailure: (error) => this.#report(error),
          });
    this.#net.on("error", (err: NodeJS.ErrnoException) => {
      if (this.#listenFailed) this.#listenFailed(err);
      else if (err.code === "EMFILE" || err.code === "ENFILE") this.#descriptorsRanOut(err);
      else this.#report(explain(err, { endpoint: formatAddress(this.endpoint) }));
    });
  }

  get stats(): ServerStats {
    return { ...this.#stats };
  }

  get connectionCount(): number {
    return this.#open.size;
  }

  /** bind + listen, removing a stale unix socket file first; then chmod for unix sockets. */
  async bind(): Promise<void> {
    const { backlog, unixSocketMode, trace } = this.#settings;
    const target = this.endpoint;
    const where = { endpoint: formatAddress(target) };
    try {
      await this.#listenOnce(target, backlog);
    } catch (err) {
      if (target.transport === "unix") await missingDirectory(err, target.path);
      if (
        target.transport !== "unix" ||
        (err as NodeJS.ErrnoException).code !== "EADDRINUSE" ||
        !(await isStaleUnixSocket(target.path))
      ) {
        throw explain(err, where);
      }
      await unlink(target.path).catch(noop);
      await this.#listenOnce(target, backlog).catch((retryErr: unknown) => {
        throw explain(retryErr, where);
      });
    }
    if (target.transport === "unix") {
      try {
        await chmod(target.path, unixSocketMode);
      } catch (err) {
        this.#net.close();
        throw explain(err, where);
      }
    }
    const address = this.#net.address();
    let family: "IPv4" | "IPv6" | "unix" = "unix";
    if (address !== null && typeof address === "object") {
      family = address.family === "IPv6" ? "IPv6" : "IPv4";
      const transport = target.transport === "tls" ? "tls" : "tcp";
      this.endpoint = { transport, host: address.address, port: address.port };
    }
    const fd = descriptorOf(this.#net);
    trace?.({ type: "socket", attributes: streamAttributes(family), fd });
    trace?.({ type: "bind", local: this.endpoint, fd });
    trace?.({ type: "listen", backlog, fd });
  }

  unref(): this {
    this.#net.unref();
    return this;
  }

  ref(): this {
    this.#net.ref();
    return this;
  }

  /** Closes the server when `signal` fires. */
  closeOnAbort(signal: AbortSignal | undefined): void {
    this.#stopAbortListener = onAbort(signal, () => void this.close());
  }

  close(options: CloseOptions = {}): Promise<CloseResult> {
    if (this.#closing === undefined) {
      const { timeoutMs } = withDefaults({ timeoutMs: DEFAULT_CLOSE_TIMEOUT_MS }, options);
      checkInteger("timeoutMs", timeoutMs, 0, MAX_TIMER_MS);
      this.#closing = this.#shutdown(timeoutMs);
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Connection<M>> {
    if (this.#settings.handler !== undefined) {
      throw new TypeError(
        "this server hands its connections to options.handler; iterate a server listening without one",
      );
    }
    // The loop body holds the connection it was given until it asks for the next one or leaves.
    let bodyDone = noop;
    return {
      next: async () => {
        bodyDone();
        bodyDone = noop;
        const result = await this.#nextConnection();
        if (result.done !== true) bodyDone = this.#started("body");
        return result;
      },
      return: () => {
        bodyDone();
        bodyDone = noop;
        return Promise.resolve(DONE);
      },
    };
  }

  /** Counts one handler call or loop body as running; returns what ends it (once). */
  #started(kind: Work["kind"]): () => void {
    const { promise, resolve } = deferred<void>();
    const work: Work = { kind, settled: promise };
    this.#running.add(work);
    return () => {
      if (this.#running.delete(work)) resolve();
    };
  }

  /** Resolves when no work of `kinds` is running, counting any started meanwhile. */
  async #settled(...kinds: Work["kind"][]): Promise<void> {
    for (;;) {
      const running = [...this.#running].filter((work) => kinds.includes(work.kind));
      if (running.length === 0) return;
      await Promise.all(running.map((work) => work.settled));
    }
  }

  #listenOnce(target: Endpoint, backlog: number): Promise<void> {
    const options: net.ListenOptions =
      target.transport === "unix"
        ? { path: target.path, backlog }
        : { host: target.host, port: target.port, backlog };
    return new Promise((resolve, reject) => {
      this.#listenFailed = (err) => {
        this.#listenFailed = undefined;
        reject(err);
      };
      this.#net.listen(options, () => {
        this.#listenFailed = undefined;
        resolve();
      });
    });
  }

  readonly #onConnection = (socket: net.Socket): void => {
    const { trace, maxConnections, handler } = this.#settings;
    const { local, remote } = socketEndpoints(socket, this.#unixPath);
    const fd = descriptorOf(socket);
    // A TLS server traced accept() when the TCP connection came, before its handshake.
    if (this.#settings.tls === undefined) {
      trace?.({ type: "accept", remote, fd: descriptorOf(this.#net), newFd: fd });
    } else traceHandshake(socket, remote, fd, trace);
    if (!this.#probeScheduled) {
      this.#probeScheduled = true;
      setImmediate(this.#probeDescriptors);
    }
    const address = remote.transport === "tcp" ? remote.host : undefined;
    const fromAddress = address === undefined ? 0 : (this.#perAddress.get(address) ?? 0);
    const full = this.#open.size >= maxConnections;
    if (
      this.#closing !== undefined ||
      full ||
      fromAddress >= this.#settings.maxConnectionsPerAddress
    ) {
      // Turned away with a FIN, not a reset: closing a socket whose receive queue holds data
      // makes the kernel send RST, so whatever the client already sent is read and dropped
      // until it ends too. One that never ends is destroyed after REJECT_LINGER_MS.
      socket.on("error", noop);
      socket.resume();
      socket.end();
      socket.setTimeout(REJECT_LINGER_MS, () => socket.destroy());
      if (trace) socket.once("close", () => trace({ type: "close", remote, fd }));
      if (this.#closing === undefined) {
        this.#stats.rejected++;
        const reason = full ? "max-connections" : "max-connections-per-address";
        this.emit("reject", { remote, reason } satisfies RejectInfo);
      }
      return;
    }
    if (address !== undefined) this.#perAddress.set(address, fromAddress + 1);
    // setsockopt(TCP_NODELAY, SO_KEEPALIVE) on the socket accept() made.
    if (this.#unixPath === undefined) applySocketSettings(socket, this.#settings.controls);
    const connection = new TcpConnection<M>({
      socket,
      framing: this.#settings.framing,
      local,
      remote,
      idleTimeoutMs: this.#settings.idleTimeoutMs,
      frameTimeoutMs: this.#settings.frameTimeoutMs,
      minDataRate: this.#settings.minDataRate,
      minDataRateGraceMs: this.#settings.minDataRateGraceMs,
      maxMessagesPerTurn: this.#settings.maxMessagesPerTurn,
      guard: this.#guard,
      highWaterMark: this.#settings.highWaterMark,
      trace,
      onClosed: this.#forget,
    });
    this.#stats.accepted++;
    this.#open.add(connection);
    this.emit("connection", connection);
    if (handler !== undefined) {
      void this.#serve(connection, handler).finally(this.#started("handler"));
    } else {
      const claimer = this.#claimers.shift();
      if (claimer) claimer.resolve({ value: connection, done: false });
      else this.#unclaimed.add(connection);
    }
  };

  readonly #forget = (connection: TcpConnection<M>): void => {
    this.#open.delete(connection);
    this.#unclaimed.delete(connection);
    this.#stats.closed++;
    const { remote } = connection;
    if (remote.transport === "tcp") {
      const left = (this.#perAddress.get(remote.host) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(remote.host, left);
      else this.#perAddress.delete(remote.host);
    }
  };

  /**
   * The connections hold more than `maxBufferedBytes` between them: drops the one holding the
   * most, then the next, until they fit. A scan of the open connections, only when over.
   */
  #overBudget(): void {
    if (this.#enforcingBudget) return; // a drop below called back here
    this.#enforcingBudget = true;
    try {
      const guard = this.#guard;
      while (guard.heldBytes > guard.maxBufferedBytes) {
        let most: TcpConnection<M> | undefined;
        for (const connection of this.#open) {
          if (connection.heldBytes > (most?.heldBytes ?? 0)) most = connection;
        }
        if (most === undefined) break;
        most.dropForBudget(guard.maxBufferedBytes);
      }
    } finally {
      this.#enforcingBudget = false;
    }
  }

  async #serve(
    connection: TcpConnection<M>,
    handler: (connection: Connection<M>) => void | Promise<void>,
  ): Promise<void> {
    try {
      await handler(connection);
    } catch (err) {
      const error = handlerError(err, connection.remote);
      this.#report(error, err instanceof Error ? err.stack : undefined);
    }
    await connection.close();
  }

  #nextConnection(): Promise<IteratorResult<Connection<M>>> {
    // Connections nobody took before the close are being closed: the loop ends.
    if (this.#closing !== undefined) return Promise.resolve(DONE);
    for (const connection of this.#unclaimed) {
      this.#unclaimed.delete(connection);
      return Promise.resolve({ value: connection, done: false });
    }
    const claimer = deferred<IteratorResult<Connection<M>>>();
    this.#claimers.push(claimer);
    return claimer.promise;
  }

  async #shutdown(timeoutMs: number): Promise<CloseResult> {
    this.#stopAbortListener();
    // close(listening socket): no more accepts. The callback waits for every connection.
    const fd = descriptorOf(this.#net);
    const stopped = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    // Connections already destroyed closed their descriptors before this close.
    for (const connection of this.#open) connection.traceCloseIfDestroyed();
    this.#settings.trace?.({ type: "close", fd });
    for (let claimer = this.#claimers.shift(); claimer; claimer = this.#claimers.shift()) {
      claimer.resolve(DONE);
    }
    const connections = [...this.#open];
    for (const connection of connections) {
      // Nobody took it from the iterator: nothing it received was accepted by the application.
      if (this.#unclaimed.has(connection)) void connection.close();
      else connection.shutdown(this.#settings.handler === undefined);
    }
    let destroyed = 0;
    const closed = Promise.all(connections.map((connection) => connection.closed));
    const everything = Promise.all([closed, this.#settled("handler", "body")]);
    if (await waitAtMost(everything, timeoutMs)) {
      for (const connection of this.#open) {
        destroyed++;
        connection.destroy();
      }
      await closed;
      // A handler whose connection was just destroyed is given a moment to notice and return.
      await waitAtMost(this.#settled("handler"), SETTLE_AFTER_DESTROY_MS);
    }
    await stopped;
    // One more turn: code that awaited a connection's close() (an app's log line) has run.
    await new Promise(setImmediate);
    return { ended: connections.length - destroyed, destroyed, unsettled: this.#running.size };
  }

  /**
   * Runs after each batch of accepts. When a process runs out of file descriptors, libuv closes
   * a spare descriptor it keeps, accepts each waiting connection and closes it at once, then
   * takes the spare back: the clients see their connection closed, and Node says nothing. So
   * the server checks for itself that a descriptor is still free, and reports the first failure
   * of a burst; the burst ends when a batch of accepts leaves a descriptor free again.
   */
  readonly #probeDescriptors = (): void => {
    this.#probeScheduled = false;
    try {
      closeSync(openSync(devNull, "r"));
      this.#outOfDescriptors = false;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EMFILE" || code === "ENFILE") this.#descriptorsRanOut(err);
    }
  };

  /** Reports running out of file descriptors, once per burst. */
  #descriptorsRanOut(err: unknown): void {
    if (this.#outOfDescriptors) return;
    this.#outOfDescriptors = true;
    const { code, message, hint } = explain(err, { endpoint: formatAddress(this.endpoint) });
    this.#report(
      new SocketError(
        code,
        `${message}; new connections are closed as soon as they arrive until descriptors are free again`,
        { cause: err, hint, syscall: "accept" },
      ),
    );
  }

  /**
   * Hands a non-fatal error to `onError`, else to (deprecated) 'error' listeners, else to a
   * process warning: one line on stderr, hint included, then `detail` (a handler error's stack).
   */
  #report(error: SocketError, detail?: string): void {
    if (this.#settings.onError === undefined && this.listenerCount("error") > 0) {
      this.emit("error", error);
    } else reportError(this.#settings.onError, error, detail);
  }
}

/** A handler call, or the body of a `for await` loop over the server, still running. */
interface Work {
  readonly kind: "handler" | "body";
  readonly settled: Promise<void>;
}

/** Waits for `promise` at most `ms`; resolves `true` when the time ran out first. */
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  try {
    return await Promise.race([promise.then(() => false), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a handler threw, as the server reports it: a SocketError with the thrown error's code
 * (`ERR_UNKNOWN` for an error without one), message and hint, the thrown value as `cause`, and
 * the thrown error's stack frames as its own, so a report shows the handler's line that threw
 * rather than the server's.
 */
function handlerError(thrown: unknown, remote: Endpoint): SocketError {
  const where = formatAddress(remote);
  const explained = explain(thrown, { endpoint: where });
  const error = new SocketError(explained.code, explained.message, {
    cause: thrown,
    hint:
      explained.hint ??
      `The handler of the connection from ${where} threw this (or its promise rejected with it); that connection was closed and the server goes on. The stack shows where.`,
  });
  const stack = thrown instanceof Error ? thrown.stack : undefined;
  const frames = stack?.split("\n").filter((line) => /^\s+at /.test(line));
  if (frames !== undefined && frames.length > 0) {
    error.stack = `${error.name}: ${error.message}\n${frames.join("\n")}`;
  }
  return error;
}

/**
 * libuv reports a unix bind whose directory does not exist as EACCES (as Windows would): the
 * kernel said ENOENT. Put back what the kernel said, so the error names the real fault.
 * @throws {SocketError} `ENOENT` when `err` is EACCES and the directory of `path` is missing.
 */
async function missingDirectory(err: unknown, path: string): Promise<void> {
  if ((err as NodeJS.ErrnoException).code !== "EACCES") return;
  if ((await lstat(dirname(path)).catch(() => undefined)) !== undefined) return;
  const { syscall } = err as NodeJS.ErrnoException;
  throw explain(
    Object.assign(new Error(`${syscall} ENOENT ${path}`, { cause: err }), {
      code: "ENOENT",
      syscall,
      address: path,
    }),
  );
}

/**
 * True when the unix socket file at `path` is left over from a server that is gone: it is a
 * socket and connecting to it is refused. A live server answers, and is left alone.
 * @throws {SocketError} `ENOTSOCK` when the path is not a socket (it is never removed).
 */
async function isStaleUnixSocket(path: string): Promise<boolean> {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) return true; // gone meanwhile: listening again may work
  if (!stats.isSocket()) {
    throw explain(
      Object.assign(new Error(`bind ENOTSOCK ${path}`), {
        code: "ENOTSOCK",
        syscall: "bind",
        address: path,
      }),
    );
  }
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    probe.on("connect", () => {
      probe.destroy();
      resolve(false);
    });
    probe.on("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}
