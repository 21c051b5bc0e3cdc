/**
 * A datagram socket over node:dgram: bind, size-checked sends, received datagrams with their
 * sender as an async iterable, connected mode, close. Datagrams keep their boundaries — one
 * send is one message — but may be lost, duplicated or reordered.
 */

import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import {
  Domain,
  descriptorOf,
  type Endpoint,
  ErrorCode,
  explain,
  formatAddress,
  type InetEndpoint,
  SocketError,
  SocketType,
  socketAttributes,
  type TraceListener,
  UDP_MAX_PAYLOAD_IPV4,
  UDP_MAX_PAYLOAD_IPV6,
  UDP_SAFE_PAYLOAD_IPV4,
  UDP_SAFE_PAYLOAD_IPV6,
} from "@socket-lab/core";
import {
  AsyncQueue,
  abortReason,
  checkFunction,
  checkInteger,
  checkNumber,
  checkOnError,
  checkSignal,
  type Deferred,
  deferred,
  invalidArgType,
  invalidArgValue,
  MAX_TIMER_MS,
  onAbort,
  raceAbort,
  reportError,
  setTimeoutAfterInput,
  throwIfAborted,
  warnUnhandled,
  withDefaults,
} from "@socket-lab/core/internal";
import { parseUdpEndpoint } from "./internal/endpoint.js";
import { payloadSize } from "./internal/options.js";

/**
 * Default bound of the receive queue, in datagrams: what waits for a slow reader before newer
 * datagrams are dropped (and counted in `droppedQueueFull`). At the IPv4 maximum payload this
 * is at most 64 MiB; typical small datagrams take far less.
 */
export const DEFAULT_RECEIVE_QUEUE_SIZE = 1_024;

/**
 * Default most sends (`send()` and `write()`) a socket keeps pending, handed to Node and not yet
 * completed by the OS, before `write()` returns `false`: what a sender may issue before it
 * waits for `drain()`.
 */
export const DEFAULT_MAX_PENDING_SENDS = 256;

/** Options of {@link bind}. */
export interface UdpSocketOptions {
  /**
   * Largest payload in bytes this socket sends or accepts. A larger send() rejects with
   * `ERR_DATAGRAM_TOO_LARGE` before the OS sees it; a larger received datagram is dropped and
   * counted in `droppedOversize`, never truncated. E.g. `UDP_SAFE_PAYLOAD_IPV4` (1,472) to stay
   * under a 1,500-byte Ethernet MTU.
   * @default the protocol maximum: 65,507 (udp4) or 65,527 (udp6)
   */
  maxPayloadBytes?: number;
  /**
   * Datagrams kept for a reader that is not keeping up, in datagrams. When full, the newest
   * datagram is dropped and counted in `droppedQueueFull`: UDP may lose messages, and so may we.
   * @default 1024 ({@link DEFAULT_RECEIVE_QUEUE_SIZE})
   */
  receiveQueueSize?: number;
  /**
   * Kernel receive buffer (SO_RCVBUF) requested after bind, in bytes. Raise it for bursts of
   * large datagrams. The kernel caps it (`net.core.rmem_max` on Linux) and Linux doubles it for
   * bookkeeping; the socket's `recvBufferSize` reports what was granted.
   * @default the system's (`net.core.rmem_default` on Linux)
   */
  recvBufferSize?: number;
  /**
   * Kernel send buffer (SO_SNDBUF) requested after bind, in bytes; capped like
   * `recvBufferSize`, and reported by the socket's `sendBufferSize`.
   * @default the system's (`net.core.wmem_default` on Linux)
   */
  sendBufferSize?: number;
  /**
   * Sends pending at once (handed to Node, not yet completed by the OS) before `write()`
   * returns `false`; `drain()` then resolves once at most half of them are still pending.
   * `send()` and `write()` both count. Each pending send holds its payload.
   * @default 256 ({@link DEFAULT_MAX_PENDING_SENDS})
   */
  maxPendingSends?: number;
  /**
   * Connected mode: the one peer this socket talks to. send() then takes no `to`, only this
   * peer's datagrams arrive, and if nothing listens there the kernel's ICMP "port unreachable"
   * surfaces as a `SocketError` with code `ECONNREFUSED` through `onError()` (or from a send()).
   * @default unconnected
   */
  connect?: string | Endpoint;
  /** Receives `socket`, `bind`, `connect`, `send`, `recv` and `close` trace events. @default none */
  trace?: TraceListener;
  /**
   * Receives each error the OS reports after the fact, which belongs to no call: `ECONNREFUSED`
   * (ICMP port unreachable, connected mode), a failed `write()`. The same as calling
   * `socket.onError(listener)` right after bind.
   * @default none: when no listener is subscribed either, a process warning (one line on
   *   stderr), never a crash
   */
  onError?: (error: SocketError) => void;
  /**
   * Closes the socket when it fires, as `close()` does (like `dgram.createSocket({ signal })`).
   * Fired before `bind()` is done, `bind()` rejects with `signal.reason` (a DOMException
   * `AbortError` for `controller.abort()`) and nothing stays bound.
   * @default none
   */
  signal?: AbortSignal;
}

/** Options of one {@link UdpSocket.send}. */
export interface UdpSendOptions {
  /**
   * Stops waiting for the OS: the promise rejects with `signal.reason`. Fired before the call,
   * nothing is sent; fired after it, the datagram may still go out (the OS cannot take it back).
   * @default none
   */
  signal?: AbortSignal;
}

/** One received datagram: its payload, whole, and who sent it. */
export interface Datagram {
  /** The payload, exactly as sent: one send() is one Datagram. */
  readonly data: Buffer;
  /** The sender's address and port. */
  readonly from: InetEndpoint;
}

/** Options of {@link UdpSocket.receive}. */
export interface ReceiveOptions {
  /**
   * How long to wait for a datagram, in ms; then `receive()` rejects with `ERR_TIMEOUT`. 0 takes
   * only a datagram already queued. Like recvfrom() with SO_RCVTIMEO.
   * @default no limit
   */
  timeoutMs?: number;
  /** Stops waiting: `receive()` rejects with the signal's reason. @default none */
  signal?: AbortSignal;
}

/** Counters of one socket; they only grow. */
export interface UdpSocketStats {
  /** Datagrams the OS accepted for sending. */
  datagramsSent: number;
  /** Payload bytes in `datagramsSent`. */
  bytesSent: number;
  /** Sends the OS refused (`send()` rejected them; a failed `write()` goes to `onError()`). */
  sendsFailed: number;
  /**
   * Errors the OS reported after the fact and `onError()` listeners were given: ICMP errors
   * (`ECONNREFUSED` on a connected socket) and failed `write()`s.
   */
  errors: number;
  /** Datagrams read from the OS, the dropped ones below included. */
  datagramsReceived: number;
  /** Payload bytes in `datagramsReceived`. */
  bytesReceived: number;
  /** Received datagrams larger than `maxPayloadBytes`, dropped. */
  droppedOversize: number;
  /** Received datagrams dropped because the receive queue was full (the reader was slow). */
  droppedQueueFull: number;
}

/**
 * A bound UDP socket. Iterate it (`for await`) for received datagrams, or take them one at a
 * time with `receive()`; iteration ends when the socket is closed (datagrams still queued are
 * discarded). Leaving a `for await` with `break` does not close the socket. Errors never crash
 * the process and never end iteration: they reject a send(), or — when the OS reports them
 * later (an ICMP error, a failed write()) — go to `onError()` listeners and `stats.errors`,
 * and the socket goes on receiving. A datagram socket has no connection to lose.
 */
export interface UdpSocket extends AsyncIterable<Datagram> {
  /** The bound address, with the real port when bound to port 0. */
  readonly local: InetEndpoint;
  /** The connected peer, or `undefined` when unconnected. */
  readonly remote: InetEndpoint | undefined;
  /** Largest payload sent or accepted, in bytes (the `maxPayloadBytes` option or the protocol maximum). */
  readonly maxPayloadBytes: number;
  /** SO_RCVBUF as the kernel granted it after bind, in bytes. */
  readonly recvBufferSize: number;
  /** SO_SNDBUF as the kernel granted it after bind, in bytes. */
  readonly sendBufferSize: number;
  /** The counters, a snapshot taken when read. */
  readonly stats: Readonly<UdpSocketStats>;
  /**
   * recvfrom(): the next datagram, waiting at most `timeoutMs`. Datagrams go to whoever asks
   * first: a `receive()` and a `for await` on the same socket share them.
   * @throws (rejects) {SocketError} `ERR_TIMEOUT` when none arrives within `timeoutMs`;
   *   `ERR_SOCKET_CLOSED` when the socket is (or gets) closed; the signal's reason on abort.
   *   {RangeError} for a bad `timeoutMs`.
   * @example
   * await using server = await bind("udp://127.0.0.1:0"); // say udp://127.0.0.1:7001
   * await using socket = await bind("udp://127.0.0.1:0");
   * await server.send("pong", socket.local);
   * const { data, from } = await socket.receive({ timeoutMs: 1_000 });
   * `${data} from ${from.host}:${from.port}` //=> "pong from 127.0.0.1:7001"
   */
  receive(options?: ReceiveOptions): Promise<Datagram>;
  /**
   * Calls `listener` with each error the OS reports after the fact: the kernel's ICMP "port
   * unreachable" on a connected socket (`ECONNREFUSED`, with a hint) or a failed `write()`.
   * Such an error does not end iteration or reject a `receive()`: the socket goes on, as
   * recvfrom() does after reporting it once. Each one also counts in `stats.errors`.
   * @returns a function that removes the listener.
   * @example
   * const gone = await bind("udp://127.0.0.1:0");
   * await gone.close(); // nobody listens on gone.local now
   * await using socket = await bind("udp://127.0.0.1:0", { connect: gone.local });
   * socket.onError((error) => console.log(`${error.code}: ${error.message}`));
   * const refused = new Promise((resolve) => socket.onError(resolve));
   * socket.write("hello"); // the kernel's ICMP "port unreachable" comes back
   * await refused;
   * //=> ECONNREFUSED: connection refused by 127.0.0.1:7001 — no server is listening there
   */
  onError(listener: (error: SocketError) => void): () => void;
  /**
   * Sends one datagram; resolves when the OS has taken it (not when anyone received it).
   * `to` is required when unconnected and refused when connected.
   * @throws (rejects) {SocketError} `ERR_DATAGRAM_TOO_LARGE` over `maxPayloadBytes`, before the OS
   *   sees it; `ERR_SOCKET_CLOSED` after close(); `ERR_INVALID_ENDPOINT` for a bad `to`; a
   *   system code (`ECONNREFUSED`, …) from the OS. {TypeError} for bad arguments.
   *   `signal.reason` when `options.signal` fires first.
   * @example
   * await using server = await bind("udp://127.0.0.1:0");
   * await using socket = await bind("udp://127.0.0.1:0", { connect: server.local });
   * await socket.send("hello", undefined, { signal: AbortSignal.timeout(1_000) }); // connected: no `to`
   */
  send(data: Uint8Array | string, to?: string | Endpoint, options?: UdpSendOptions): Promise<void>;
  /**
   * Sends one datagram without a promise: `send()` for hot loops, which then pay no promise
   * and no `await` per datagram. Like `socket.write()` on a stream, it returns `false` once
   * `pendingSends` reaches `maxPendingSends`; wait for `drain()` before writing more. The
   * datagram is checked and handed to the OS exactly as with `send()`.
   *
   * What `send()` would reject with at once is thrown here. A failure the OS reports later
   * (e.g. `ECONNREFUSED`) is counted in `stats.sendsFailed` and given to `onError()`
   * listeners, the way an ICMP error is.
   * @throws {SocketError} `ERR_DATAGRAM_TOO_LARGE`, `ERR_SOCKET_CLOSED`, `ERR_INVALID_ENDPOINT`,
   *   as send() rejects. {TypeError} for bad arguments.
   * @example Fragment: `socket` and `readings` are the caller's
   * for (const reading of readings) {
   *   if (!socket.write(reading)) await socket.drain();
   * }
   */
  write(data: Uint8Array | string, to?: string | Endpoint): boolean;
  /**
   * Sends handed to Node by `send()` and `write()` whose completion has not been seen yet.
   */
  readonly pendingSends: number;
  /**
   * Resolves once at most half of `maxPendingSends` are pending (at once when that is already
   * so).
   * @throws (rejects) {SocketError} `ERR_SOCKET_CLOSED` when the socket closes first.
   */
  drain(): Promise<void>;
  /** Closes the socket and ends iteration. Calling it again returns the same promise. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULTS = {
  receiveQueueSize: DEFAULT_RECEIVE_QUEUE_SIZE,
  maxPendingSends: DEFAULT_MAX_PENDING_SENDS,
};

const RESOLVED = Promise.resolve();
const noop = (): void => {};

const REFUSED_HINT =
  "Is the server running? Nothing is bound to that UDP port, so the peer's kernel answered with ICMP port unreachable. Start the server first, or check the host and port.";

/**
 * Binds a UDP socket: udp4 for an IPv4 host, udp6 for an IPv6 one (a host name is looked up
 * first). Port 0 lets the system choose; `socket.local.port` tells which.
 *
 * @throws (rejects) {SocketError} `ERR_INVALID_ENDPOINT` for a bad endpoint; a system code such
 *   as `EADDRINUSE` or `EADDRNOTAVAIL`, explained with a hint. {TypeError}/{RangeError} naming a
 *   bad option. `signal.reason` when `options.signal` fires first.
 * @example
 * await using socket = await bind("udp://127.0.0.1:0");
 * socket.local //=> { transport: "udp", host: "127.0.0.1", port: 40158 }
 * await using server = await bind("udp://127.0.0.1:0"); // say udp://127.0.0.1:7001
 * await socket.send("hello", server.local);
 * for await (const { data, from } of server) { console.log(`${data} from ${from.host}:${from.port}`); break; }
 * //=> hello from 127.0.0.1:40158
 */
export async function bind(
  endpoint: string | Endpoint,
  options: UdpSocketOptions = {},
): Promise<UdpSocket> {
  const local = parseUdpEndpoint(endpoint);
  const settings = withDefaults(DEFAULTS, options);
  checkInteger("receiveQueueSize", settings.receiveQueueSize, 0, 2 ** 31 - 1);
  if (settings.recvBufferSize !== undefined) {
    checkInteger("recvBufferSize", settings.recvBufferSize, 1, 2 ** 31 - 1);
  }
  if (settings.sendBufferSize !== undefined) {
    checkInteger("sendBufferSize", settings.sendBufferSize, 1, 2 ** 31 - 1);
  }
  checkInteger("maxPendingSends", settings.maxPendingSends, 1, 2 ** 31 - 1);
  checkOnError(settings.onError);
  const { signal } = settings;
  checkSignal(signal);
  const remote = settings.connect === undefined ? undefined : parseUdpEndpoint(settings.connect);
  throwIfAborted(signal);
  const family = isIP(local.host) || (await raceAbort(_lookupFamily(local), signal));
  const protocolMax = family === 6 ? UDP_MAX_PAYLOAD_IPV6 : UDP_MAX_PAYLOAD_IPV4;
  const maxPayloadBytes = checkInteger(
    "maxPayloadBytes",
    settings.maxPayloadBytes ?? protocolMax,
    0,
    protocolMax,
  );
  if (remote !== undefined && isIP(remote.host) !== 0 && isIP(remote.host) !== family) {
    throw new SocketError(
      ErrorCode.ERR_INVALID_ENDPOINT,
      `cannot connect a udp${family} socket bound to ${formatAddress(local)} to ${formatAddress(remote)}: the address families differ`,
      { hint: "Bind to 127.0.0.1 to talk to IPv4 peers and to [::1] for IPv6 peers." },
    );
  }
  const socket = new _UdpSocket(family === 6 ? 6 : 4, maxPayloadBytes, settings);
  if (settings.onError !== undefined) socket.onError(settings.onError);
  await socket._open(local, remote, settings);
  // Fired while binding: bind() is quick and cannot be cancelled half-way, so undo it.
  if (signal?.aborted === true) {
    await socket.close();
    throw abortReason(signal);
  }
  socket._closeOnAbort(signal);
  return socket;
}

/** The address family a host name resolves to (`localhost` may be either). */
async function _lookupFamily(endpoint: InetEndpoint): Promise<number> {
  try {
    return (await lookup(endpoint.host)).family;
  } catch (error) {
    throw explain(error, { endpoint: formatAddress(endpoint) });
  }
}

class _UdpSocket implements UdpSocket {
  readonly #stats: UdpSocketStats = {
    datagramsSent: 0,
    bytesSent: 0,
    sendsFailed: 0,
    errors: 0,
    datagramsReceived: 0,
    bytesReceived: 0,
    droppedOversize: 0,
    droppedQueueFull: 0,
  };
  readonly maxPayloadBytes: number;
  readonly #socket: Socket;
  readonly #family: 4 | 6;
  readonly #queue: AsyncQueue<Datagram>;
  readonly #trace: TraceListener | undefined;
  /** The socket's file descriptor once bound, for the trace; `undefined` where Node hides it. */
  #fd: number | undefined;
  readonly #errorListeners = new Set<(error: SocketError) => void>();
  #local: InetEndpoint = { transport: "udp", host: "", port: 0 };
  #remote: InetEndpoint | undefined;
  #recvBufferSize = 0;
  #sendBufferSize = 0;
  #open = false;
  #closing: Promise<void> | undefined;
  readonly #maxPending: number;
  #pending = 0;
  /** The promise `drain()` hands out while too many sends are pending. */
  #drain: Deferred<void> | undefined;
  /** Rejects the step of `_open()` in progress; errors go to the reader once open. */
  #failStep: ((error: unknown) => void) | undefined;
  /** send() to the same string again and again parses it once. */
  #lastTo: string | undefined;
  #lastToEndpoint: InetEndpoint | undefined;
  /** Stops listening to `options.signal`. */
  #stopAbortListener: () => void = noop;

  constructor(
    family: 4 | 6,
    maxPayloadBytes: number,
    settings: {
      receiveQueueSize: number;
      maxPendingSends: number;
      trace?: TraceListener | undefined;
    },
  ) {
    this.#family = family;
    this.maxPayloadBytes = maxPayloadBytes;
    this.#maxPending = settings.maxPendingSends;
    this.#trace = settings.trace;
    this.#queue = new AsyncQueue({ limit: settings.receiveQueueSize });
    // socket(): udp4 is AF_INET + SOCK_DGRAM, udp6 is AF_INET6 + SOCK_DGRAM.
    this.#socket = createSocket(family === 6 ? "udp6" : "udp4");
    // An 'error' without a listener would crash the process; this one is never removed.
    this.#socket.on("error", (error) => this.#onError(error));
    this.#socket.on("message", (data, rinfo) => this.#onMessage(data, rinfo));
  }

  get stats(): Readonly<UdpSocketStats> {
    return { ...this.#stats };
  }

  get local(): InetEndpoint {
    return this.#local;
  }

  get remote(): InetEndpoint | undefined {
    return this.#remote;
  }

  get recvBufferSize(): number {
    return this.#recvBufferSize;
  }

  get sendBufferSize(): number {
    return this.#sendBufferSize;
  }

  get pendingSends(): number {
    return this.#pending;
  }

  /** bind, buffer sizes, connect: the steps after socket(). Closes the socket on failure. */
  async _open(
    local: InetEndpoint,
    remote: InetEndpoint | undefined,
    settings: { recvBufferSize?: number | undefined; sendBufferSize?: number | undefined },
  ): Promise<void> {
    const socket = this.#socket;
    let where = formatAddress(local);
    try {
      // bind(): the kernel delivers datagrams for this address and port to us from now on.
      await this.#step((done) => socket.bind(local.port, local.host, done));
      const address = socket.address();
      this.#local = { transport: "udp", host: address.address, port: address.port };
      if (this.#trace) {
        // Node (libuv) makes the socket only now, just before bind().
        const fd = descriptorOf(socket);
        this.#fd = fd;
        const domain = this.#family === 6 ? Domain.AF_INET6 : Domain.AF_INET;
        const attributes = socketAttributes({ domain, type: SocketType.SOCK_DGRAM });
        this.#trace({ type: "socket", attributes, fd });
        this.#trace({ type: "bind", local: this.#local, fd });
      }
      // setsockopt(SO_RCVBUF / SO_SNDBUF): only possible once the socket exists, i.e. after bind.
      if (settings.recvBufferSize !== undefined) socket.setRecvBufferSize(settings.recvBufferSize);
      if (settings.sendBufferSize !== undefined) socket.setSendBufferSize(settings.sendBufferSize);
      this.#recvBufferSize = socket.getRecvBufferSize();
      this.#sendBufferSize = socket.getSendBufferSize();
      if (remote !== undefined) {
        where = formatAddress(remote);
        // connect() on a datagram socket sends nothing: it fixes the peer, filters what
        // arrives, and lets the kernel report ICMP errors for that peer to us.
        await this.#step((done) => socket.connect(remote.port, remote.host, done));
        const peer = socket.remoteAddress();
        this.#remote = { transport: "udp", host: peer.address, port: peer.port };
        this.#trace?.({ type: "connect", remote: this.#remote, fd: this.#fd });
      }
      this.#open = true;
    } catch (error) {
      await this.close();
      throw explain(error, { endpoint: where });
    }
  }

  /** Runs one setup call; it fails through its callback or through an 'error' event. */
  #step(start: (done: (error?: Error | null) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#failStep = reject;
      start((error) => (error ? reject(error) : resolve()));
    }).finally(() => {
      this.#failStep = undefined;
    });
  }

  /** Closes the socket when `signal` fires. */
  _closeOnAbort(signal: AbortSignal | undefined): void {
    this.#stopAbortListener = onAbort(signal, () => void this.close());
  }

  send(data: Uint8Array | string, to?: string | Endpoint, options?: UdpSendOptions): Promise<void> {
    const signal = options?.signal;
    let target: InetEndpoint | undefined;
    try {
      checkSignal(signal, "options.signal");
      throwIfAborted(signal);
      target = this.#startSend(data, to);
    } catch (error) {
      return Promise.reject(error);
    }
    const sent = new Promise<void>((resolve, reject) => {
      const done = (error: Error | null, bytes: number) => {
        this.#sendDone(error, bytes);
        if (error) reject(this.#explain(error, target ?? this.#remote));
        else resolve();
      };
      // send() on a connected socket; sendto(): one call, one datagram.
      if (target === undefined) this.#socket.send(data, done);
      else this.#socket.send(data, target.port, target.host, done);
      // Counted once handed over (dgram never calls back before it returns).
      this.#pending++;
    });
    return signal === undefined ? sent : raceAbort(sent, signal);
  }

  write(data: Uint8Array | string, to?: string | Endpoint): boolean {
    const target = this.#startSend(data, to);
    if (target === undefined) this.#socket.send(data, this.#written);
    else this.#socket.send(data, target.port, target.host, this.#written);
    return ++this.#pending < this.#maxPending;
  }

  drain(): Promise<void> {
    if (this.#drained) return RESOLVED;
    if (this.#closing !== undefined) return Promise.reject(this.#closedError("wait to send"));
    if (this.#drain === undefined) {
      this.#drain = deferred<void>();
      // Nobody has to wait for it: a close() that rejects it must not be an unhandled rejection.
      this.#drain.promise.catch(noop);
    }
    return this.#drain.promise;
  }

  /**
   * Checks a send's arguments and traces it; returns where it goes, `undefined` for the
   * connected peer.
   * @throws what send() rejects with before the OS sees the datagram.
   */
  #startSend(
    data: Uint8Array | string,
    to: string | Endpoint | undefined,
  ): InetEndpoint | undefined {
    const size = payloadSize(data);
    if (size > this.maxPayloadBytes) throw this.#tooLarge(size);
    if (this.#closing !== undefined) throw this.#closedError("send");
    let target: InetEndpoint | undefined;
    const remote = this.#remote;
    if (remote !== undefined) {
      if (to !== undefined) {
        throw invalidArgValue(
          "to argument",
          to,
          `must be left out on a socket connected to ${formatAddress(remote)}`,
        );
      }
      this.#trace?.({ type: "send", bytes: size, fd: this.#fd });
    } else {
      if (to === undefined) {
        throw invalidArgType("to argument", "an endpoint on an unconnected socket", to);
      }
      target = this.#target(to);
      if (target.port === 0) {
        throw new SocketError(
          ErrorCode.ERR_INVALID_ENDPOINT,
          `cannot send to ${formatAddress(target)}: port 0 means "any port" only to bind`,
          { hint: "Send to the port the receiver is bound to (its socket.local.port)." },
        );
      }
      this.#trace?.({ type: "send", bytes: size, to: target, fd: this.#fd });
    }
    return target;
  }

  #target(to: string | Endpoint): InetEndpoint {
    if (typeof to !== "string") return parseUdpEndpoint(to);
    if (to !== this.#lastTo) {
      this.#lastToEndpoint = parseUdpEndpoint(to);
      this.#lastTo = to;
    }
    return this.#lastToEndpoint as InetEndpoint;
  }

  /** A send has completed (`bytes` is its size) or failed: counts it, wakes `drain()`. */
  #sendDone(error: Error | null, bytes: number): void {
    this.#pending--;
    if (error) this.#stats.sendsFailed++;
    else {
      this.#stats.datagramsSent++;
      this.#stats.bytesSent += bytes;
    }
    const drain = this.#drain;
    if (drain !== undefined && this.#drained) {
      this.#drain = undefined;
      drain.resolve();
    }
  }

  /** Whether a sender waiting for room may go on: at most half of the pending limit is used. */
  get #drained(): boolean {
    return this.#pending <= this.#maxPending >> 1;
  }

  /** Completion of every write(): one function for all, no closure per datagram. */
  readonly #written = (error: Error | null, bytes: number): void => {
    this.#sendDone(error, bytes);
    if (error && this.#open) this.#report(this.#explain(error, this.#peerOf(error)));
  };

  /** Whom a failed send was for: the address dgram names in its error, or the connected peer. */
  #peerOf(error: Error): InetEndpoint | undefined {
    const { address, port } = error as { address?: unknown; port?: unknown };
    if (typeof address === "string" && typeof port === "number") {
      return { transport: "udp", host: address, port };
    }
    return this.#remote;
  }

  #closedError(what: string): SocketError {
    return new SocketError(ErrorCode.ERR_SOCKET_CLOSED, `cannot ${what}: the socket is closed`, {
      hint: "Bind a new socket; a closed one cannot be reopened.",
    });
  }

  #tooLarge(size: number): SocketError {
    const protocolMax = this.#family === 6 ? UDP_MAX_PAYLOAD_IPV6 : UDP_MAX_PAYLOAD_IPV4;
    const limit =
      this.maxPayloadBytes === protocolMax
        ? `the IPv${this.#family} maximum of ${protocolMax.toLocaleString("en-US")} bytes`
        : `maxPayloadBytes ${this.maxPayloadBytes.toLocaleString("en-US")} bytes`;
    const safe = this.#family === 6 ? UDP_SAFE_PAYLOAD_IPV6 : UDP_SAFE_PAYLOAD_IPV4;
    return new SocketError(
      ErrorCode.ERR_DATAGRAM_TOO_LARGE,
      `datagram of ${size.toLocaleString("en-US")} bytes is larger than ${limit}`,
      {
        hint: `Split the data over several datagrams (UDP never does it for you) or use TCP; payloads up to ${safe.toLocaleString("en-US")} bytes avoid IP fragmentation.`,
      },
    );
  }

  #explain(error: unknown, peer: InetEndpoint | undefined): SocketError {
    const code = (error as { code?: unknown }).code;
    return explain(error, {
      endpoint: formatAddress(peer ?? this.#local),
      ...(code === "ECONNREFUSED" ? { hint: REFUSED_HINT } : {}),
    });
  }

  #onMessage(data: Buffer, rinfo: RemoteInfo): void {
    if (!this.#open) return;
    const stats = this.#stats;
    const bytes = data.length;
    stats.datagramsReceived++;
    stats.bytesReceived += bytes;
    const from: InetEndpoint = { transport: "udp", host: rinfo.address, port: rinfo.port };
    // recvfrom(): the sender comes with every datagram; there is no connection to ask.
    this.#trace?.({ type: "recv", bytes, from, fd: this.#fd });
    if (bytes > this.maxPayloadBytes) stats.droppedOversize++;
    else if (!this.#queue.push({ data, from })) stats.droppedQueueFull++;
  }

  #onError(error: Error): void {
    if (this.#failStep !== undefined) this.#failStep(error);
    else if (this.#open) this.#report(this.#explain(error, this.#remote));
  }

  /**
   * An error the OS reported after the fact: counted and handed to every listener, or to a
   * process warning when there is none.
   */
  #report(error: SocketError): void {
    this.#stats.errors++;
    if (this.#errorListeners.size === 0) warnUnhandled(error);
    // Through the one error channel: a listener that throws is warned about, never crashes.
    for (const listener of this.#errorListeners) reportError(listener, error);
  }

  onError(listener: (error: SocketError) => void): () => void {
    checkFunction("listener argument", listener);
    // A Set: the same function added twice is called once, and removed by either handle.
    this.#errorListeners.add(listener);
    return () => {
      this.#errorListeners.delete(listener);
    };
  }

  receive(options: ReceiveOptions = {}): Promise<Datagram> {
    const { timeoutMs, signal } = options;
    try {
      if (timeoutMs !== undefined) checkNumber("timeoutMs", timeoutMs, 0, MAX_TIMER_MS);
      checkSignal(signal, "options.signal");
      if (this.#closing !== undefined) throw this.#closedError("receive");
      throwIfAborted(signal);
      // 0: recvfrom() with MSG_DONTWAIT, which fails at once when nothing is queued.
      if (timeoutMs === 0 && this.#queue.length === 0) throw this.#timedOut(0);
    } catch (error) {
      return Promise.reject(error);
    }
    // One read of the queue, given up (and its place in line with it) on timeout or abort.
    const reader = this.#queue.iterate();
    return new Promise<Datagram>((resolve, reject) => {
      let settled = false;
      const stop = (error: unknown) => {
        settle();
        void reader.return?.();
        reject(error);
      };
      // After the waiting input: the datagram may have come while the process did not run.
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeoutAfterInput(() => {
              if (!settled) stop(this.#timedOut(timeoutMs));
            }, timeoutMs);
      // Not fired yet (checked above), so the listener cannot run before `settle` exists.
      const stopAbort = onAbort(signal, () => stop(abortReason(signal as AbortSignal)));
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        stopAbort();
      };
      reader.next().then((result) => {
        settle();
        if (result.done === true) reject(this.#closedError("receive"));
        else resolve(result.value);
      }, stop);
    });
  }

  #timedOut(timeoutMs: number): SocketError {
    return new SocketError(
      ErrorCode.ERR_TIMEOUT,
      `no datagram arrived at ${formatAddress(this.#local)} within ${timeoutMs.toLocaleString("en-US")} ms`,
      { hint: "UDP promises nothing: the datagram may be lost. Send again, or wait longer." },
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<Datagram> {
    return this.#queue.iterate();
  }

  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      this.#stopAbortListener();
      this.#open = false;
      this.#queue.clear();
      const drain = this.#drain;
      this.#drain = undefined;
      drain?.reject(this.#closedError("wait to send"));
      // close(): the port is free again; datagrams that arrive for it now are refused.
      this.#socket.close(() => {
        const fd = this.#fd;
        this.#trace?.(
          this.#remote === undefined
            ? { type: "close", fd }
            : { type: "close", remote: this.#remote, fd },
        );
        resolve();
      });
    });
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
