/**
 * The client: socket + connect, then the handshake (SYN → SYN_ACK → ACK) on a connected UDP
 * socket, so the kernel filters other senders and reports a closed server port.
 */

import { isIP } from "node:net";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type Endpoint,
  ErrorCode,
  formatAddress,
  type InetEndpoint,
  parseEndpoint,
  SocketError,
  type TraceListener,
  UDP_MAX_PAYLOAD_IPV4,
  UDP_MAX_PAYLOAD_IPV6,
} from "@socket-lab/core";
import {
  abortReason,
  checkInteger,
  checkSignal,
  MAX_TIMER_MS,
  onAbort,
  throwIfAborted,
} from "@socket-lab/core/internal";
import { bind } from "@socket-lab/udp";
import {
  Connection,
  type ConnectionOptions,
  type ReliableConnection,
  randomConnId,
  resolveConnectionOptions,
} from "./connection.js";
import { decodeSegments, type Segment } from "./header.js";

/** How {@link connect} connects, and how the connection behaves. */
export interface ConnectOptions extends ConnectionOptions {
  /**
   * Time the handshake may take before `connect()` fails with ERR_TIMEOUT, ms. The SYN is
   * sent again after each RTO (1 s, 2 s, 4 s, … from `initialRtoMs`).
   * @default DEFAULT_CONNECT_TIMEOUT_MS (10000)
   */
  connectTimeoutMs?: number;
  /**
   * Cancels connecting: the promise rejects with `signal.reason` (a DOMException `AbortError`
   * for `controller.abort()`), as tcp's `connect()` does. Not used once connected.
   * @default none
   */
  signal?: AbortSignal;
  /** Where the client's socket binds. @default "udp://127.0.0.1:0" (or "udp://[::1]:0" for an IPv6 server) */
  local?: string | Endpoint;
  /** Receives the UDP socket's calls: socket, bind, connect, send, recv, close. */
  trace?: TraceListener;
}

/**
 * Connects to a reliable-udp server: binds a UDP socket, connects it to the server, and runs
 * the handshake with a random connection id.
 * @throws {SocketError} (as a rejection) `ECONNREFUSED` when nothing listens on the server's
 *   port, `ERR_TIMEOUT` when no SYN_ACK comes within `connectTimeoutMs`, `ECONNRESET` when the
 *   server refuses (it holds `maxConnections`), `ERR_INVALID_ENDPOINT`.
 * @throws {unknown} `signal.reason` when `signal` fires first (Node's `AbortError`, code
 *   `ABORT_ERR`, for a signal aborted with `null`).
 * @throws {TypeError|RangeError} for a bad option, naming it and its value.
 * @example
 * await using server = await listen("udp://127.0.0.1:0"); // say udp://127.0.0.1:7001
 * void (async () => {
 *   for await (const peer of server) for await (const message of peer) peer.write(message); // echo
 * })();
 * await using connection = await connect(server.endpoint);
 * await connection.send("Hello from client");
 * for await (const reply of connection) { console.log(`${reply}`); break; }
 * //=> Hello from client
 */
export async function connect(
  endpoint: string | Endpoint,
  options: ConnectOptions = {},
): Promise<ReliableConnection> {
  const target =
    typeof endpoint === "string" ? parseEndpoint(endpoint, { transport: "udp" }) : endpoint;
  if (target.transport !== "udp") {
    throw new SocketError(
      ErrorCode.ERR_INVALID_ENDPOINT,
      `invalid endpoint '${typeof endpoint === "string" ? endpoint : formatAddress(target)}': reliable-udp needs a udp:// endpoint`,
      { hint: "Write it as udp://127.0.0.1:7001 or udp://[::1]:7001." },
    );
  }
  const { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, signal, local, trace, ...rest } = options;
  checkInteger("connectTimeoutMs", connectTimeoutMs, 1, MAX_TIMER_MS);
  checkSignal(signal);
  const v6 = isIP(target.host) === 6;
  const settings = resolveConnectionOptions(rest, v6 ? UDP_MAX_PAYLOAD_IPV6 : UDP_MAX_PAYLOAD_IPV4);
  throwIfAborted(signal);
  // socket() + bind() + connect(): a connected datagram socket hears only the server.
  const socket = await bind(local ?? (v6 ? "udp://[::1]:0" : "udp://127.0.0.1:0"), {
    connect: target,
    ...(trace === undefined ? {} : { trace }),
  });
  const connection = new Connection({
    connId: randomConnId(),
    role: "client",
    local: socket.local,
    remote: socket.remote as InetEndpoint,
    settings,
    transmit: (datagram) => socket.write(datagram),
    writable: () => socket.drain(),
    onEstablished: () => {},
    onClosed: () => void socket.close(),
  });
  // An ICMP error (ECONNREFUSED: the server's port is closed) fails the connection.
  socket.onError((error) => connection.destroy(error, false));
  void (async () => {
    // recv(): each datagram is checked and handed to the one connection.
    for await (const { data } of socket) {
      let segments: Segment[];
      try {
        segments = decodeSegments(data);
      } catch {
        connection.countDropped("invalidSegments");
        continue;
      }
      // decodeSegments() checked that every segment carries the first one's id.
      if (segments[0]?.connId !== connection.id) connection.countDropped("foreignSegments");
      else connection.receiveAll(segments);
    }
  })();

  let timer: NodeJS.Timeout | undefined;
  let stopAbort = (): void => {};
  try {
    await new Promise<void>((resolve, reject) => {
      connection.established.then(resolve, reject);
      timer = setTimeout(() => {
        reject(
          new SocketError(
            ErrorCode.ERR_TIMEOUT,
            `no answer from ${formatAddress(target)} after ${connectTimeoutMs.toLocaleString("en-US")} ms`,
            {
              hint: "Is a reliable-udp server running there? A plain UDP server never answers the SYN.",
            },
          ),
        );
      }, connectTimeoutMs);
      // Fired while binding too: onAbort() calls at once for a signal that already has.
      stopAbort = onAbort(signal, () => reject(abortReason(signal as AbortSignal)));
    });
  } catch (error) {
    connection.destroy(undefined, false);
    await connection.closed;
    throw error;
  } finally {
    clearTimeout(timer);
    stopAbort();
  }
  return connection;
}
