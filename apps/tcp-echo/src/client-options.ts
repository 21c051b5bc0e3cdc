/**
 * The options, results and errors of tcp-echo's client; the socket story itself is client.ts.
 */

import { counted } from "@socket-lab/cli";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HOST,
  type Endpoint,
  ErrorCode,
  formatAddress,
  SocketError,
  type TraceListener,
} from "@socket-lab/core";
import { checkInteger, withDefaults } from "@socket-lab/core/internal";
import {
  type ConnectOptions,
  type Framing,
  lengthPrefixed,
  lines,
  type TlsConnectOptions,
} from "@socket-lab/tcp";
import { type EchoFraming, TCP_ECHO_PORT } from "./server-options.js";

/** The tutorial's message. */
export const TCP_ECHO_MESSAGE = "Hello from client";

/**
 * Default most messages sent and not yet answered: enough to keep loopback busy, few enough
 * that the messages kept for matching replies take little memory.
 * @example
 * import type { InetEndpoint } from "@socket-lab/core";
 * import { runClient } from "./client.js";
 * import { startServer } from "./server.js";
 * const server = await startServer({ port: 0 });
 * const { port } = server.endpoint as InetEndpoint; // tcp://, not a unix path
 * await runClient({ port, window: 4 * TCP_ECHO_WINDOW });
 * await server.close();
 */
export const TCP_ECHO_WINDOW = 1_000;

/** Options of `runClient`. */
export interface EchoClientOptions {
  /** Server host; `localhost` tries ::1 and 127.0.0.1. @default "127.0.0.1" */
  host?: string;
  /** Server port, 1–65535. @default 7000 */
  port?: number;
  /** Connect to the server's unix domain socket file instead; `host` and `port` are then not used. @default undefined (TCP) */
  unix?: string;
  /** The messages to send, one line each, in order. @default ["Hello from client"] */
  messages?: Iterable<string> | AsyncIterable<string>;
  /** Must match the server's framing. @default "lines" */
  framing?: EchoFraming;
  /** How long to wait for the connection, and then, while messages wait for replies, for the next reply, in ms; 0: no limit. @default DEFAULT_CONNECT_TIMEOUT_MS (10,000) */
  timeoutMs?: number;
  /**
   * Most messages sent and not yet answered, at least 1. With that many in flight the client
   * reads no more input until replies come, so its memory stays bounded whatever the input.
   * @default TCP_ECHO_WINDOW (1,000)
   */
  window?: number;
  /** Speak TLS, trusting what this says (`{ ca, servername, insecure }`): the endpoint becomes tls://. @default undefined (plain TCP) */
  tls?: TlsConnectOptions;
  /** Receives every socket call (socket, connect, send, recv, close). @default undefined */
  trace?: TraceListener;
  /** Receives each reply as it arrives, in the order of the messages. @default undefined */
  onReply?: (reply: EchoReply) => void;
  /** Aborts the exchange and closes the connection. @default undefined */
  signal?: AbortSignal;
}

/** One message and the server's answer to it. */
export interface EchoReply {
  /** 1 for the first message. */
  readonly seq: number;
  readonly message: string;
  readonly reply: string;
}

/**
 * What `runClient` did.
 * @example
 * import type { InetEndpoint } from "@socket-lab/core";
 * import { runClient } from "./client.js";
 * import { startServer } from "./server.js";
 * const server = await startServer({ port: 0 });
 * const { port } = server.endpoint as InetEndpoint; // tcp://, not a unix path; say 7000
 * await runClient({ port, onReply: ({ reply }) => console.log(reply) });
 * //=> Hello from client
 * await runClient({ port })
 * //=> { server: { transport: "tcp", host: "127.0.0.1", port: 7000 }, messages: 1, elapsedMs: 0.9 }
 * await server.close();
 */
export interface EchoClientSummary {
  /** The server's endpoint, as connected. */
  readonly server: Endpoint;
  /** Messages sent; every one was answered, or `runClient` would have thrown. */
  readonly messages: number;
  /** From connect to the last reply, in ms. */
  readonly elapsedMs: number;
}

const DEFAULTS = {
  host: DEFAULT_HOST,
  port: TCP_ECHO_PORT,
  messages: [TCP_ECHO_MESSAGE] as Iterable<string> | AsyncIterable<string>,
  framing: "lines" as EchoFraming,
  timeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  window: TCP_ECHO_WINDOW,
};

/** What `runClient` does with its options: where to connect, how, and what to send. */
export interface EchoClientPlan {
  readonly endpoint: Endpoint;
  readonly connectOptions: ConnectOptions<string | Buffer>;
  readonly messages: Iterable<string> | AsyncIterable<string>;
  /** A message as the framing sends it: text for lines, its UTF-8 bytes for length. */
  readonly encode: (message: string) => string | Buffer;
  /** Bytes a reply took on the wire with `length` framing (header included); 0 with `lines`. */
  readonly wireBytes: (reply: string | Buffer) => number;
  /**
   * With `length` framing, bytes left over after the last reply are no whole message: the
   * server speaks another framing (a lines server echoes a frame as text, with a `\n` after
   * it). Returns the error saying so, or undefined.
   */
  readonly strayBytes: (server: Endpoint, bytes: number) => SocketError | undefined;
  readonly timeoutMs: number;
  readonly window: number;
  readonly onReply: ((reply: EchoReply) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

/**
 * Applies the defaults, once, checks them, and turns the options into a plan.
 * @throws {RangeError} for a `window` that is not an integer of at least 1, or a `port` that is
 *   not one a server can listen on (1–65535: port 0 means "any port" only to bind).
 */
export function planClient(options: EchoClientOptions): EchoClientPlan {
  const settings = withDefaults(DEFAULTS, options);
  const { host, port, unix, framing, timeoutMs, window, tls, trace, signal } = settings;
  checkInteger("window", window, 1);
  // Port 0 means "any port" only to a server that binds.
  if (unix === undefined) checkInteger("port", port, 1, 65_535);
  const wire: Framing<string | Buffer> = framing === "length" ? lengthPrefixed() : lines();
  return {
    endpoint:
      unix !== undefined
        ? { transport: "unix", path: unix }
        : { transport: tls === undefined ? "tcp" : "tls", host, port },
    connectOptions: {
      framing: wire,
      connectTimeoutMs: timeoutMs,
      trace,
      signal,
      ...(tls && { tls }),
    },
    messages: settings.messages,
    encode: framing === "length" ? (message) => Buffer.from(message) : (message) => message,
    wireBytes: (reply) => (framing === "length" ? LENGTH_HEADER_BYTES + reply.length : 0),
    strayBytes: (server, bytes) =>
      framing === "length" && bytes > 0 ? notFramed(server, bytes) : undefined,
    timeoutMs,
    window,
    onReply: settings.onReply,
    signal,
  };
}

/** The u32 length before each message with `length` framing. */
const LENGTH_HEADER_BYTES = 4;

/** What send() fails with once the server has closed the connection. */
export const HUNG_UP = new Set<string>([ErrorCode.ERR_SOCKET_CLOSED, "EPIPE", "ECONNRESET"]);

/** Messages wait, and the server sent no reply for `timeoutMs`. */
export function noReply(
  server: Endpoint,
  timeoutMs: number,
  counts: { waiting: number; sent: number },
): SocketError {
  const { waiting, sent } = counts;
  return new SocketError(
    ErrorCode.ERR_TIMEOUT,
    `no reply from ${formatAddress(server)} for ${timeoutMs} ms, with ${waiting} of ${counted(sent, "message")} sent still unanswered`,
    {
      hint: "Check that it is an echo server (one that answers every message), or raise timeoutMs.",
    },
  );
}

/** The server closed the connection before it answered every message. */
export function closedEarly(server: Endpoint, answered: number, sent: string): SocketError {
  return new SocketError(
    ErrorCode.ERR_SOCKET_CLOSED,
    `${formatAddress(server)} closed the connection after ${answered} of ${sent} replies`,
    {
      hint: "The server may be full (--max-connections), have timed out, or not be an echo server.",
    },
  );
}

/** Bytes after the last reply that are no whole length-prefixed message. */
function notFramed(server: Endpoint, bytes: number): SocketError {
  return new SocketError(
    ErrorCode.ERR_FRAME_TRUNCATED,
    `${formatAddress(server)} sent ${counted(bytes, "byte")} after the last reply that are not a whole length-prefixed message`,
    {
      hint: "The server seems to use another framing (a lines server echoes a frame as text): run both with the same --framing.",
    },
  );
}
