/**
 * tcp-echo client — the tutorial's stream client.
 *
 * What it shows: a stream client calls socket → connect (the three-way handshake; "connection
 * refused" when nobody listens), then writes and reads one reliable, ordered byte stream. Because
 * the stream keeps order and never loses a byte, the client can write message after message
 * without waiting for replies and still match replies to messages by position: reply n answers
 * message n. It keeps at most `window` messages in flight, so its memory stays bounded.
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
import { counted, withDefaults } from "@socket-lab/core/cli";
import { connect, type Framing, lengthPrefixed, lines } from "@socket-lab/tcp";
import { InFlight } from "./_in-flight.js";
import { DEFAULT_PORT, type EchoFraming } from "./server.js";

/** The tutorial's message. */
export const DEFAULT_MESSAGE = "Hello from client";

/**
 * Default most messages sent and not yet answered: enough to keep loopback busy, few enough
 * that the messages kept for matching replies take little memory.
 * @example
 * await runClient({ window: 4 * DEFAULT_WINDOW });
 */
export const DEFAULT_WINDOW = 1_000;

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
  /** How long to wait for the connection, and then, while messages wait for replies, for the next reply, in ms; 0: no limit. @default DEFAULT_CONNECT_TIMEOUT_MS (10,000) */
  timeoutMs?: number;
  /**
   * Most messages sent and not yet answered, at least 1. With that many in flight the client
   * reads no more input until replies come, so its memory stays bounded whatever the input.
   * @default DEFAULT_WINDOW (1,000)
   */
  window?: number;
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
  window: DEFAULT_WINDOW,
};

/**
 * Connects, sends every message, and resolves once every reply is in.
 *
 * @throws {SocketError} `ECONNREFUSED` when no server listens; `ERR_TIMEOUT` when messages wait
 *   and no reply comes for `timeoutMs`; `ERR_SOCKET_CLOSED` when the server hangs up before
 *   answering everything.
 * @throws {RangeError} for a `window` that is not an integer of at least 1.
 * @example
 * await runClient({ port: 7000, onReply: ({ reply }) => console.log(reply) });
 * // prints: Hello from client
 * //=> { server: { transport: "tcp", host: "127.0.0.1", port: 7000 }, messages: 1, elapsedMs: 0.9 }
 */
export async function runClient(options: EchoClientOptions = {}): Promise<EchoClientSummary> {
  const { host, port, messages, framing, timeoutMs, window, trace, onReply, signal } = withDefaults(
    DEFAULTS,
    options,
  );
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`window must be an integer of at least 1 message, got ${window}`);
  }
  const wire: Framing<string | Buffer> = framing === "length" ? lengthPrefixed() : lines();
  const started = performance.now();

  // socket + connect: the kernel does the handshake; refused at once if nobody listens.
  const connection = await connect<string | Buffer>(
    { transport: "tcp", host, port },
    { framing: wire, timeoutMs, trace, signal },
  );
  const abort = () => connection.destroy(signal?.reason);
  signal?.addEventListener("abort", abort, { once: true });

  // Messages sent but not yet answered, oldest first: the stream answers in the same order.
  // While any wait, a reply must come every timeoutMs.
  const inFlight = new InFlight(window, timeoutMs, () =>
    connection.destroy(noReply(connection.remote, timeoutMs, inFlight)),
  );
  let writing = true;
  let error: unknown;

  // send: the writer does not wait for each reply, only for room in the window, and while the
  // kernel's buffer is full (backpressure).
  void (async () => {
    for await (const message of messages) {
      // Counted before it is written: a message that finds the connection closed is one the
      // server did not answer, and the summary below says so.
      inFlight.add(message);
      if (!connection.write(framing === "length" ? Buffer.from(message) : message)) {
        await connection.drain();
      }
      // The next message is read only once the window has room: backpressure up to stdin.
      if (inFlight.full && !(await inFlight.room())) return;
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
  try {
    for await (const reply of connection) {
      const message = inFlight.answer();
      if (message === undefined) continue; // the server said something nobody asked for
      onReply?.({ seq: inFlight.answered, message, reply: String(reply) });
      if (!writing && inFlight.waiting === 0) break;
    }
  } catch (err) {
    error ??= err;
  } finally {
    inFlight.close(); // a writer waiting for room stops
    signal?.removeEventListener("abort", abort);
  }
  // close: our end of the stream. (Should the server hang up early, the writer may still be
  // waiting for input from a pipe that stays open; nothing more can be sent, so it stops there.)
  await connection.close();
  if (error !== undefined) throw signal?.aborted === true ? signal.reason : error;
  const { answered: seq, sent } = inFlight;
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

/** Messages wait, and the server sent no reply for `timeoutMs`. */
function noReply(server: Endpoint, timeoutMs: number, inFlight: InFlight): SocketError {
  const { waiting, sent } = inFlight;
  return new SocketError(
    ErrorCode.ERR_TIMEOUT,
    `no reply from ${formatAddress(server)} for ${timeoutMs} ms, with ${waiting} of ${counted(sent, "message")} sent still unanswered`,
    {
      hint: "Check that it is an echo server (one that answers every message), or raise timeoutMs.",
    },
  );
}
