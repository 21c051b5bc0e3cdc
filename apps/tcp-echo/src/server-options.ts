/**
 * The options, events and defaults of tcp-echo's server; the socket story itself is server.ts.
 */

import { withDefaults } from "@socket-lab/cli";
import {
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type Endpoint,
  type SocketError,
  type TraceListener,
  TUTORIAL_BACKLOG,
} from "@socket-lab/core";
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  type Framing,
  lengthPrefixed,
  lines,
  type RejectInfo,
  type ServerOptions,
  type TlsServerOptions,
} from "@socket-lab/tcp";

/** The port tcp-echo listens on unless told otherwise (udp-echo uses 7001). */
export const TCP_ECHO_PORT = 7000;

/**
 * How long `close()` lets replies in flight flush and clients hang up before cutting them off,
 * in ms: short, so Ctrl-C with an idle `nc` or a client that never reads ends at once.
 */
export const ECHO_CLOSE_TIMEOUT_MS = 500;

/** How messages are cut out of the byte stream. */
export type EchoFraming = "lines" | "length";

/** The framing both programs use unless told otherwise: lines, what nc, socat and telnet speak. */
export const TCP_ECHO_FRAMING: EchoFraming = "lines";

/** Options of `startServer`. */
export interface EchoServerOptions {
  /** Address to bind; loopback, so nothing outside this machine can connect. @default "127.0.0.1" */
  host?: string;
  /** Port to bind; 0 lets the system choose a free one (read it from `endpoint`). @default 7000 */
  port?: number;
  /**
   * Listen on this unix domain socket file instead (AF_UNIX: "locally, on a single machine");
   * `host` and `port` are then not used. A file left by a server that is gone is replaced; a
   * live server's socket, or a file that is not a socket, is an error. @default undefined (TCP)
   */
  unix?: string;
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
  port: TCP_ECHO_PORT,
  framing: TCP_ECHO_FRAMING as EchoFraming,
  backlog: TUTORIAL_BACKLOG,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  closeTimeoutMs: ECHO_CLOSE_TIMEOUT_MS,
};

/** What `startServer` does with its options: where to listen, how, and what to answer. */
export interface EchoServerPlan {
  readonly endpoint: Endpoint;
  readonly listenOptions: ServerOptions<string | Buffer>;
  /** The fixed reply in the framing's type, or undefined to echo. */
  readonly answer: string | Buffer | undefined;
  readonly closeTimeoutMs: number;
  readonly emit: (event: EchoServerEvent) => void;
  /** The limit a rejected client ran into: `maxConnections` or `maxConnectionsPerAddress`. */
  readonly limitOf: (reason: RejectInfo["reason"]) => number;
}

/** Applies the defaults, once, and turns the options into a plan. */
export function planServer(options: EchoServerOptions): EchoServerPlan {
  const settings = withDefaults(DEFAULTS, options);
  const { host, port, unix, reply, framing, tls, onEvent, maxFrameBytes } = settings;
  // With length framing a message is raw bytes (echoed exactly as they came); with lines, text.
  const wire: Framing<string | Buffer> =
    framing === "length"
      ? lengthPrefixed({ maxFrameBytes })
      : lines({ maxLineBytes: maxFrameBytes });
  const endpoint: Endpoint =
    unix !== undefined
      ? { transport: "unix", path: unix }
      : { transport: tls === undefined ? "tcp" : "tls", host, port };
  return {
    endpoint,
    listenOptions: {
      ...(tls === undefined ? {} : { tls }), // tls://: each client's TLS handshake, then lines
      framing: wire,
      backlog: settings.backlog,
      maxConnections: settings.maxConnections,
      idleTimeoutMs: settings.idleTimeoutMs,
      maxBufferedBytes: settings.maxBufferedBytes,
      maxConnectionsPerAddress: settings.maxConnectionsPerAddress,
      trace: settings.trace,
    },
    answer: reply === undefined ? undefined : framing === "length" ? Buffer.from(reply) : reply,
    closeTimeoutMs: settings.closeTimeoutMs,
    emit: onEvent ?? (() => {}),
    limitOf: (reason) =>
      reason === "max-connections" ? settings.maxConnections : settings.maxConnectionsPerAddress,
  };
}
