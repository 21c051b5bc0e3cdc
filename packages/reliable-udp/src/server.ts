/**
 * The server: one UDP socket, many connections. Each datagram is checked and routed by its
 * connection id; a SYN with a new id from an address is accepted (up to `maxConnections`),
 * everything else that matches no connection is dropped and counted.
 */

import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type Endpoint,
  type InetEndpoint,
  type SocketError,
  type TraceListener,
  UDP_MAX_PAYLOAD_IPV6,
} from "@socket-lab/core";
import { AsyncQueue, checkInteger, checkOnError, MAX_TIMER_MS } from "@socket-lab/core/internal";
import { bind, type UdpSocket } from "@socket-lab/udp";
import {
  Connection,
  type ConnectionOptions,
  type ConnectionSettings,
  type ReliableConnection,
  resolveConnectionOptions,
} from "./connection.js";
import { decodeSegments, encodeSegment, type Segment, SegmentType } from "./header.js";

/**
 * Connection ids a server remembers after their connection closed, so that a replayed or
 * late SYN cannot open them again.
 */
export const RECENT_CONNECTION_IDS = 4_096;

/** What {@link listen} takes, beyond how each connection behaves. */
export interface ListenOptions extends ConnectionOptions {
  /**
   * Most connections at once, half-open ones (SYN answered, handshake not finished) included.
   * A SYN beyond it gets an RST: the client's `connect()` fails with ECONNRESET.
   * @default DEFAULT_MAX_CONNECTIONS (1024)
   */
  maxConnections?: number;
  /** Receives the UDP socket's calls: socket, bind, send, recv, close. */
  trace?: TraceListener;
  /**
   * Receives the errors that belong to no caller: the UDP socket's (a send the OS failed
   * after the fact). A connection's own errors go to whoever reads or sends on it.
   * @default none: a process warning (one line on stderr), never a crash
   */
  onError?: (error: SocketError) => void;
}

/**
 * Counters of a {@link ReliableServer}: what was accepted, and every datagram dropped
 * before it reached a connection, by reason.
 */
export interface ReliableServerStats {
  /** Connections whose handshake completed. */
  readonly accepted: number;
  /** SYNs refused with an RST because `maxConnections` were open. */
  readonly rejected: number;
  /** Connections closed since (by close handshake, reset, or dead peer). */
  readonly closed: number;
  /** Datagrams that are not a valid segment: truncated header, wrong magic or version, … */
  readonly invalidSegments: number;
  /** Segments for a connection id the server does not know (and not a SYN). */
  readonly unknownConnection: number;
  /** Segments with a known connection id from another address or port. */
  readonly wrongSource: number;
  /** SYNs (or other segments) for a connection id that recently closed: replays. */
  readonly staleConnection: number;
}

/** A listening reliable-udp server. Iterate it for connections; the loop ends on `close()`. */
export interface ReliableServer extends AsyncIterable<ReliableConnection>, AsyncDisposable {
  /** The bound endpoint, with the real port. */
  readonly endpoint: InetEndpoint;
  /** Connections open now, half-open ones included. */
  readonly connectionCount: number;
  /** The counters: a snapshot, taken when read. */
  readonly stats: ReliableServerStats;
  /**
   * Stops accepting, closes every connection (the close handshake, reset after `timeoutMs`),
   * then the socket. Idempotent; never rejects.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

type Counters = { -readonly [K in keyof ReliableServerStats]: number };

/**
 * Binds a UDP socket and accepts reliable connections on it.
 * @throws {SocketError} (as a rejection) from bind: EADDRINUSE, ERR_INVALID_ENDPOINT, …
 * @throws {TypeError|RangeError} for a bad option, naming it and its value.
 * @example Fragment: the loop runs until the server closes
 * await using server = await listen("udp://127.0.0.1:0");
 * for await (const connection of server) {
 *   for await (const message of connection) connection.write(message); // echo
 *   await connection.close();
 * }
 */
export async function listen(
  endpoint: string | Endpoint,
  options: ListenOptions = {},
): Promise<ReliableServer> {
  const { maxConnections = DEFAULT_MAX_CONNECTIONS, trace, onError, ...rest } = options;
  checkOnError(onError);
  checkInteger("maxConnections", maxConnections, 1, 2 ** 20);
  // Checked before bind against the larger (IPv6) limit; again once the family is known.
  resolveConnectionOptions(rest, UDP_MAX_PAYLOAD_IPV6);
  // socket() + bind(): one socket for every connection; there is no listen() or accept()
  // in UDP, the handshake below plays their part.
  const socket = await bind(endpoint, { trace, onError });
  let settings: ConnectionSettings;
  try {
    settings = resolveConnectionOptions(rest, socket.maxPayloadBytes);
  } catch (error) {
    await socket.close();
    throw error;
  }
  return new Server(socket, settings, maxConnections);
}

class Server implements ReliableServer {
  readonly #socket: UdpSocket;
  readonly #settings: ConnectionSettings;
  readonly #max: number;
  readonly #connections = new Map<number, Connection>();
  /** Ids of closed connections, oldest first (a Map keeps insertion order). */
  readonly #recent = new Map<number, true>();
  readonly #accepted = new AsyncQueue<ReliableConnection>();
  readonly #counters: Counters = {
    accepted: 0,
    rejected: 0,
    closed: 0,
    invalidSegments: 0,
    unknownConnection: 0,
    wrongSource: 0,
    staleConnection: 0,
  };
  #closing: Promise<void> | undefined;

  constructor(socket: UdpSocket, settings: ConnectionSettings, max: number) {
    this.#socket = socket;
    this.#settings = settings;
    this.#max = max;
    void this.#readLoop();
  }

  get endpoint(): InetEndpoint {
    return this.#socket.local;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  get stats(): ReliableServerStats {
    return { ...this.#counters };
  }

  async #readLoop(): Promise<void> {
    // Ends when the socket closes. Its errors (a failed send) go to the onError option, not
    // here: reading goes on after them.
    for await (const { data, from } of this.#socket) this.#route(data, from);
  }

  /** recvfrom(): checks one datagram and hands it to its connection, or drops it. */
  #route(data: Buffer, from: InetEndpoint): void {
    const c = this.#counters;
    let segments: Segment[];
    try {
      segments = decodeSegments(data);
    } catch {
      c.invalidSegments++;
      return;
    }
    // decodeSegments() checked that every segment carries the first one's id.
    const segment = segments[0] as Segment;
    const connection = this.#connections.get(segment.connId);
    if (connection !== undefined) {
      if (connection.remote.port !== from.port || connection.remote.host !== from.host) {
        c.wrongSource++;
        return;
      }
      connection.receiveAll(segments);
      return;
    }
    if (this.#recent.has(segment.connId)) {
      c.staleConnection++;
      return;
    }
    if (segment.type !== SegmentType.SYN || this.#closing !== undefined) {
      c.unknownConnection++;
      return;
    }
    if (this.#connections.size >= this.#max) {
      // Refuse with an RST the same size as a SYN: nothing for an attacker to amplify.
      c.rejected++;
      this.#socket.write(
        encodeSegment({
          type: SegmentType.RST,
          connId: segment.connId,
          seq: 0,
          ack: segment.seq,
          window: 0,
          timestamp: 0,
          echo: segment.timestamp,
          sack: [],
        }),
        from,
      );
      return;
    }
    this.#accept(segment, from);
  }

  /** accept(): a new connection, half-open until the client acknowledges our SYN_ACK. */
  #accept(syn: Segment, from: InetEndpoint): void {
    const socket = this.#socket;
    const id = syn.connId;
    const connection: Connection = new Connection({
      connId: id,
      role: "server",
      local: socket.local,
      remote: from,
      settings: this.#settings,
      syn,
      transmit: (datagram) => socket.write(datagram, from),
      writable: () => socket.drain(),
      onEstablished: () => {
        this.#counters.accepted++;
        this.#accepted.push(connection);
      },
      onClosed: () => {
        if (this.#connections.get(id) === connection) this.#connections.delete(id);
        this.#remember(id);
        if (connection.state === "CLOSED") this.#counters.closed++;
      },
    });
    if (connection.state !== "CLOSED") this.#connections.set(id, connection);
  }

  #remember(id: number): void {
    this.#recent.set(id, true);
    if (this.#recent.size > RECENT_CONNECTION_IDS) {
      const oldest = this.#recent.keys().next().value as number;
      this.#recent.delete(oldest);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<ReliableConnection> {
    return this.#accepted.iterate();
  }

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = checkInteger(
      "timeoutMs",
      options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
      0,
      MAX_TIMER_MS,
    );
    this.#closing ??= (async () => {
      this.#accepted.clear();
      await Promise.all([...this.#connections.values()].map((c) => c.close({ timeoutMs })));
      await Promise.all([...this.#connections.values()].map((c) => c.closed));
      await this.#socket.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
