/**
 * tcp-echo client — the tutorial's stream client.
 *
 * What it shows: a stream client calls socket → connect (the three-way handshake; "connection
 * refused" when nobody listens), then writes and reads one reliable, ordered byte stream. Because
 * the stream keeps order and never loses a byte, the client can write every message without
 * waiting and still match replies to messages by position: reply n answers message n.
 *
 * Run it in two terminals:
 *   pnpm tcp:server                          # terminal 1
 *   pnpm tcp:client                          # terminal 2: Hello from client
 *   printf 'one\ntwo\n' | pnpm tcp:client    # one message per line: one, two
 */

import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HOST,
  type Endpoint,
  ErrorCode,
  formatAddress,
  isSocketError,
  SocketError,
  type TraceListener,
} from "@socket-lab/core";
import { withDefaults } from "@socket-lab/core/cli";
import {
  connect,
  type Framing,
  lengthPrefixed,
  lines,
  type TlsConnectOptions,
} from "@socket-lab/tcp";
import { DEFAULT_PORT, type EchoFraming } from "./server.js";

/** The tutorial's message. */
export const DEFAULT_MESSAGE = "Hello from client";

/** Options of {@link runClient}. */
export interface EchoClientOptions {
  /** Server host; `localhost` tries ::1 and 127.0.0.1. @default "127.0.0.1" */
  host?: string;
  /** Server port. @default 7000 */
  port?: number;
  /** The messages to send, one line each, in order. @default ["Hello from client"] */
  messages?: Iterable<string> | AsyncIterable<string>;
  /** Must match the server's framing. @default "lines" */
  framing?: EchoFraming;
  /** How long to wait for the connection, and then for the server to say anything, in ms. @default DEFAULT_CONNECT_TIMEOUT_MS (10,000) */
  timeoutMs?: number;
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

/** What {@link runClient} did. */
export interface EchoClientSummary {
  /** The server's endpoint, as connected. */
  readonly server: Endpoint;
  /** Messages sent; every one was answered, or `runClient` would have thrown. */
  readonly messages: number;
  /** From connect to the last reply, in ms. */
  readonly elapsedMs: number;
}

/** What send() fails with once the server has closed the connection. */
const HUNG_UP = new Set<string>([ErrorCode.ERR_SOCKET_CLOSED, "EPIPE", "ECONNRESET"]);

const DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  messages: [DEFAULT_MESSAGE] as Iterable<string> | AsyncIterable<string>,
  framing: "lines" as EchoFraming,
  timeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
};

/**
 * Connects, sends every message, and resolves once every reply is in.
 *
 * @throws {SocketError} `ECONNREFUSED` when no server listens; `ERR_TIMEOUT` when the server is
 *   silent for `timeoutMs`; `ERR_SOCKET_CLOSED` when it hangs up before answering everything.
 * @example
 * await runClient({ port: 7000, onReply: ({ reply }) => console.log(reply) });
 * // prints: Hello from client
 * //=> { server: { transport: "tcp", host: "127.0.0.1", port: 7000 }, messages: 1, elapsedMs: 0.9 }
 */
export async function runClient(options: EchoClientOptions = {}): Promise<EchoClientSummary> {
  const { host, port, messages, framing, timeoutMs, tls, trace, onReply, signal } = withDefaults(
    DEFAULTS,
    options,
  );
  const wire: Framing<string | Buffer> = framing === "length" ? lengthPrefixed() : lines();
  const started = performance.now();

  // socket + connect: the kernel does the handshake; refused at once if nobody listens.
  const connection = await connect<string | Buffer>(
    { transport: tls === undefined ? "tcp" : "tls", host, port },
    { framing: wire, timeoutMs, idleTimeoutMs: timeoutMs, trace, signal, ...(tls && { tls }) },
  );
  const abort = () => connection.destroy(signal?.reason);
  signal?.addEventListener("abort", abort, { once: true });

  // Messages sent but not yet answered, oldest first: the stream answers in the same order.
  const unanswered: string[] = [];
  let sent = 0;
  let writing = true;
  let error: unknown;

  // send: the writer never waits for replies; send() waits only while the kernel's buffer is
  // full (backpressure), so memory stays bounded however long the input is.
  void (async () => {
    for await (const message of messages) {
      unanswered.push(message);
      sent += 1;
      await connection.send(framing === "length" ? Buffer.from(message) : message);
    }
    // shutdown(SHUT_WR): "no more messages"; the server answers the rest, then closes its end.
    await connection.end();
  })()
    .catch((err: unknown) => {
      // The server hanging up stops the writer; the count of replies below reports it.
      if (isSocketError(err) && HUNG_UP.has(err.code)) return;
      error ??= err;
      connection.destroy();
    })
    .finally(() => {
      writing = false;
    });

  // recv: replies come back on the same stream, in order; reply n answers message n.
  let seq = 0;
  try {
    for await (const reply of connection) {
      const message = unanswered.shift();
      if (message === undefined) continue; // the server said something nobody asked for
      seq += 1;
      onReply?.({ seq, message, reply: String(reply) });
      if (!writing && unanswered.length === 0) break;
    }
  } catch (err) {
    error ??= err;
  } finally {
    signal?.removeEventListener("abort", abort);
  }
  // close: our end of the stream. (Should the server hang up early, the writer may still be
  // waiting for input from a pipe that stays open; nothing more can be sent, so it stops there.)
  await connection.close();
  if (error !== undefined) throw signal?.aborted === true ? signal.reason : error;
  if (writing || seq < sent) {
    throw new SocketError(
      ErrorCode.ERR_SOCKET_CLOSED,
      `${formatAddress(connection.remote)} closed the connection after ${seq} of ${writing ? "more than " : ""}${sent} replies`,
      {
        hint: "The server may be full (--max-connections), have timed out, or not be an echo server.",
      },
    );
  }
  return { server: connection.remote, messages: sent, elapsedMs: performance.now() - started };
}
