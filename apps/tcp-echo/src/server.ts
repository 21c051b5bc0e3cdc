/**
 * tcp-echo server — the tutorial's stream server.
 *
 * What it shows: a stream server calls socket → bind → listen(backlog) → accept, and `accept`
 * hands back a NEW socket for each client, so one server talks to many clients at once. A
 * stream has no message boundaries: the framing (a `\n` after each line, or a length prefix)
 * is what turns the bytes back into messages.
 *
 * Run it in two terminals:
 *   pnpm tcp:server      # terminal 1: listening on tcp://127.0.0.1:7000
 *   pnpm tcp:client      # terminal 2: Hello from client
 *
 * Read this file first, then client.ts; server-cli.ts only turns flags into these options.
 */

import {
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type Endpoint,
  explain,
  type SocketError,
  type TraceListener,
  TUTORIAL_BACKLOG,
} from "@socket-lab/core";
import { withDefaults } from "@socket-lab/core/cli";
import {
  type Connection,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  type Framing,
  lengthPrefixed,
  lines,
  listen,
  type RejectInfo,
  type TlsServerOptions,
} from "@socket-lab/tcp";

/** The port tcp-echo listens on unless told otherwise (udp-echo uses 7001). */
export const DEFAULT_PORT = 7000;

/**
 * How long `close()` lets replies in flight flush and clients hang up before cutting them off,
 * in ms: short, so Ctrl-C with an idle `nc` or a client that never reads ends at once.
 */
export const ECHO_CLOSE_TIMEOUT_MS = 500;

/** How messages are cut out of the byte stream. */
export type EchoFraming = "lines" | "length";

/** Options of {@link startServer}. */
export interface EchoServerOptions {
  /** Address to bind; loopback, so nothing outside this machine can connect. @default "127.0.0.1" */
  host?: string;
  /** Port to bind; 0 lets the system choose a free one (read it from `endpoint`). @default 7000 */
  port?: number;
  /** A fixed answer to every message, like the tutorial's "Hello from server". @default undefined (echo) */
  reply?: string;
  /** `lines`: UTF-8 text ending in `\n` (what nc, socat and telnet speak); `length`: a u32 big-endian length before each message. @default "lines" */
  framing?: EchoFraming;
  /** Connections the kernel may queue before we accept them, as in `listen(sockfd, 5)`. @default TUTORIAL_BACKLOG (5) */
  backlog?: number;
  /** Connections served at once; one more is closed at once and reported as `reject`. @default DEFAULT_MAX_CONNECTIONS (1024) */
  maxConnections?: number;
  /** A connection silent this long is closed, in ms; 0 never closes one. @default DEFAULT_IDLE_TIMEOUT_MS (120,000) */
  idleTimeoutMs?: number;
  /** Largest message in bytes: a frame's payload (`length`) or a line (`lines`). @default the framing's own (8 MiB frames, 64 KiB lines) */
  maxFrameBytes?: number;
  /** Bytes held for all clients together (partial messages, unsent replies); over it the biggest holder is dropped. @default DEFAULT_MAX_BUFFERED_BYTES (64 MiB) */
  maxBufferedBytes?: number;
  /** Connections served at once from one IP address. @default DEFAULT_MAX_CONNECTIONS_PER_ADDRESS (256) */
  maxConnectionsPerAddress?: number;
  /** Time `close()` waits for clients before cutting them off, in ms. @default ECHO_CLOSE_TIMEOUT_MS (500) */
  closeTimeoutMs?: number;
  /** Speak TLS with this certificate and key (PEM): the endpoint becomes tls://. @default undefined (plain TCP) */
  tls?: TlsServerOptions;
  /** Receives every socket call (socket, bind, listen, accept, recv, send, close). @default undefined */
  trace?: TraceListener;
  /** Receives what happens to clients, for printing. @default undefined */
  onEvent?: (event: EchoServerEvent) => void;
}

/** What happens to the server's clients, in order. */
export type EchoServerEvent =
  | { readonly type: "connect"; readonly remote: Endpoint }
  | {
      readonly type: "message";
      readonly from: Endpoint;
      readonly text: string;
      readonly reply: string;
    }
  | { readonly type: "disconnect"; readonly remote: Endpoint; readonly messages: number }
  | {
      readonly type: "reject";
      readonly remote: Endpoint;
      readonly reason: RejectInfo["reason"];
      /** The limit that was reached: `maxConnections`, or `maxConnectionsPerAddress`. */
      readonly maxConnections: number;
    }
  | { readonly type: "error"; readonly remote: Endpoint; readonly error: SocketError }
  | { readonly type: "server-error"; readonly error: SocketError };

/** Counts over the server's life, returned by `close()`. */
export interface EchoServerSummary {
  /** Connections accepted. */
  readonly connections: number;
  /** Connections closed at once because `maxConnections` were already open. */
  readonly rejected: number;
  /** Messages received (each one answered). */
  readonly messages: number;
}

/** A running echo server. */
export interface EchoServer {
  /** The bound endpoint, with the real port when 0 was asked for. */
  readonly endpoint: Endpoint;
  /** Stops accepting, lets replies in flight flush, closes every connection, and counts. */
  close(): Promise<EchoServerSummary>;
}

const DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  framing: "lines" as EchoFraming,
  backlog: TUTORIAL_BACKLOG,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  closeTimeoutMs: ECHO_CLOSE_TIMEOUT_MS,
};

/**
 * Starts the echo server: binds, listens, and answers every message of every client — with the
 * message itself, or with `reply`.
 *
 * @throws {SocketError} `EADDRINUSE` when the port is taken, `EACCES` below 1024, …
 * @example
 * const server = await startServer({ port: 0, reply: "Hello from server" });
 * server.endpoint //=> { transport: "tcp", host: "127.0.0.1", port: 41234 }
 * await server.close() //=> { connections: 0, rejected: 0, messages: 0 }
 */
export async function startServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const settings = withDefaults(DEFAULTS, options);
  const { host, port, reply, framing, backlog, maxConnections, idleTimeoutMs, tls, trace } =
    settings;
  const { onEvent, maxFrameBytes, maxBufferedBytes, maxConnectionsPerAddress, closeTimeoutMs } =
    settings;
  const emit = onEvent ?? (() => {});
  let messages = 0;
  const serving = new Set<Promise<void>>();

  // With length framing a message is raw bytes (echoed exactly as they came); with lines, text.
  const wire: Framing<string | Buffer> =
    framing === "length"
      ? lengthPrefixed({ maxFrameBytes })
      : lines({ maxLineBytes: maxFrameBytes });
  const answer =
    reply === undefined ? undefined : framing === "length" ? Buffer.from(reply) : reply;

  // One client, on the socket accept() gave us for it alone.
  async function serve(connection: Connection<string | Buffer>): Promise<void> {
    const remote = connection.remote;
    let received = 0;
    emit({ type: "connect", remote });
    try {
      // recv: bytes arrive in whatever pieces TCP chose; the framing hands us whole messages.
      for await (const message of connection) {
        received += 1;
        messages += 1;
        const response = answer ?? message;
        emit({ type: "message", from: remote, text: String(message), reply: String(response) });
        // send: the answer goes back on the same stream, in order.
        await connection.send(response);
      }
    } catch (error) {
      // A reset, an oversize line or an idle timeout ends this client only, never the server.
      emit({ type: "error", remote, error: explain(error) });
    } finally {
      // close: our end of this client's socket; the listening socket stays open.
      await connection.close();
      emit({ type: "disconnect", remote, messages: received });
    }
  }

  // socket + bind + listen: the kernel now queues connections (backlog 5 by default), and
  // accept() takes them off the queue, one new socket per client.
  const server = await listen<string | Buffer>(
    { transport: tls === undefined ? "tcp" : "tls", host, port },
    {
      ...(tls === undefined ? {} : { tls }), // tls://: each client's TLS handshake, then lines
      framing: wire,
      backlog,
      maxConnections,
      idleTimeoutMs,
      maxBufferedBytes,
      maxConnectionsPerAddress,
      trace,
      handler: (connection) => {
        const done = serve(connection);
        serving.add(done);
        return done.finally(() => serving.delete(done));
      },
    },
  );
  server.on("reject", ({ remote, reason }) => {
    const limit = reason === "max-connections" ? maxConnections : maxConnectionsPerAddress;
    emit({ type: "reject", remote, reason, maxConnections: limit });
  });
  // Server-level trouble (out of file descriptors while accepting) is reported, never fatal:
  // the clients already connected keep being served.
  server.on("error", (error) => emit({ type: "server-error", error }));

  return {
    endpoint: server.endpoint,
    async close() {
      // close: the listening socket first (no new clients), then every client's socket.
      await server.close({ timeoutMs: closeTimeoutMs });
      await Promise.all(serving);
      return { connections: server.stats.accepted, rejected: server.stats.rejected, messages };
    },
  };
}
