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
 *   pnpm tcp:client                          # terminal 2: type a line, see its reply
 *   printf 'one\ntwo\n' | pnpm tcp:client    # one message per line: one, two
 *
 * client-options.ts holds the options, results and errors; client-cli.ts the flags.
 */

import { isSocketError } from "@socket-lab/core";
import { connect } from "@socket-lab/tcp";
import {
  closedEarly,
  type EchoClientOptions,
  type EchoClientSummary,
  HUNG_UP,
  noReply,
  planClient,
} from "./client-options.js";
import { InFlight } from "./internal/in-flight.js";

/**
 * Connects, sends every message, and resolves once every reply is in.
 *
 * @throws {SocketError} `ECONNREFUSED` when no server listens; `ERR_TIMEOUT` when messages wait
 *   and no reply comes for `timeoutMs`; `ERR_SOCKET_CLOSED` when the server hangs up before
 *   answering everything.
 * @throws {RangeError} for a `window` below 1 or a `port` outside 1–65535.
 * @example Fragment: needs a server on port 7000 (EchoClientSummary's example runs one)
 * await runClient({ port: 7000, onReply: ({ reply }) => console.log(reply) }); // Hello from client
 */
export async function runClient(options: EchoClientOptions = {}): Promise<EchoClientSummary> {
  const plan = planClient(options);
  const { messages, encode, timeoutMs, window, onReply, signal } = plan;
  const started = performance.now();

  // socket + connect: the kernel does the handshake; refused at once if nobody listens.
  const connection = await connect<string | Buffer>(plan.endpoint, plan.connectOptions);
  const abort = () => connection.destroy(signal?.reason);
  signal?.addEventListener("abort", abort, { once: true });

  // Messages sent but not yet answered, oldest first: the stream answers in the same order.
  // While any wait, a reply must come every timeoutMs.
  const inFlight = new InFlight(window, timeoutMs, () =>
    connection.destroy(noReply(connection.remote, timeoutMs, inFlight)),
  );
  let writing = true;
  let error: unknown;
  let framed = 0; // bytes of the replies, framing included

  // send: the writer does not wait for each reply, only for room in the window, and while the
  // kernel's buffer is full (backpressure).
  void (async () => {
    for await (const message of messages) {
      // Counted before it is written: a message that finds the connection closed is one the
      // server did not answer, and the summary below says so.
      inFlight.add(message);
      if (!connection.write(encode(message))) await connection.drain();
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
      framed += plan.wireBytes(reply);
      onReply?.({ seq: inFlight.answered, message, reply: String(reply) });
      if (!writing && inFlight.waiting === 0) break;
    }
    // Bytes beyond the last whole reply: the server frames its messages another way.
    error ??= plan.strayBytes(connection.remote, connection.stats.bytesReceived - framed);
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
  const { answered, sent } = inFlight;
  if (writing || answered < sent) {
    throw closedEarly(connection.remote, answered, `${writing ? "more than " : ""}${sent}`);
  }
  return { server: connection.remote, messages: sent, elapsedMs: performance.now() - started };
}

export {
  type EchoClientOptions,
  type EchoClientSummary,
  type EchoReply,
  TCP_ECHO_MESSAGE,
  TCP_ECHO_WINDOW,
} from "./client-options.js";
