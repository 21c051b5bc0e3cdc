/**
 * udp-echo --reliable — the same echo over @socket-lab/reliable-udp: a connection with a
 * handshake, sequence numbers, acknowledgements and retransmission, on top of the datagram
 * socket. With --trace you see each segment: SEQ, ACK, the window, SACK ranges, and the
 * retransmissions that make lost datagrams arrive anyway.
 *
 * Run it in two terminals:
 *   pnpm udp:server --reliable                    # terminal 1
 *   pnpm udp:client --reliable --trace            # terminal 2: type a line at the > prompt
 */

import { DEFAULT_HOST, type Endpoint, type TraceListener } from "@socket-lab/core";
import {
  connect,
  formatSegment,
  listen,
  type ReliableServer,
  type SegmentEvent,
} from "@socket-lab/reliable-udp";
import { withoutLineBreak } from "./internal/line-break.js";
import { UDP_ECHO_PORT } from "./server-options.js";

/** Options of {@link startReliableServer} and {@link runReliableClient}. */
export interface ReliableEchoOptions {
  /** Server host. @default "127.0.0.1" */
  host?: string;
  /** Server port; the server may bind 0. @default 7001 */
  port?: number;
  /** Receives the UDP socket's calls. @default undefined */
  trace?: TraceListener;
  /** Receives each segment as one line: `→ DATA seq=… ack=… win=… 17 bytes`. @default undefined */
  onSegment?: (line: string) => void;
}

/** One line for a segment: arrow for the direction, `(retransmit)` when sent again. */
export function segmentLine({ direction, segment, retransmit }: SegmentEvent): string {
  return `${direction === "send" ? "→" : "←"} ${formatSegment(segment)}${retransmit ? " (retransmit)" : ""}`;
}

/**
 * Starts the reliable echo server: every connection's messages come back to it, in order.
 * @param onMessage told of each message, for printing.
 */
export async function startReliableServer(
  options: ReliableEchoOptions & {
    reply?: string;
    onMessage?: (from: Endpoint, text: string) => void;
  } = {},
): Promise<ReliableServer> {
  const { host = DEFAULT_HOST, port = UDP_ECHO_PORT, trace, onSegment, reply, onMessage } = options;
  // socket + bind; the handshake plays the part of listen and accept.
  const server = await listen(`udp://${host.includes(":") ? `[${host}]` : host}:${port}`, {
    ...(trace === undefined ? {} : { trace }),
    ...(onSegment === undefined ? {} : { onSegment: (e) => onSegment(segmentLine(e)) }),
  });
  void (async () => {
    // accept: one connection per client, each read in order until the client closes.
    for await (const connection of server) {
      void (async () => {
        try {
          for await (const message of connection) {
            onMessage?.(connection.remote, withoutLineBreak(message));
            if (!connection.write(reply ?? message)) await connection.drain();
          }
        } catch {
          // a reset or dead peer ends this connection only
        }
        await connection.close();
      })();
    }
  })();
  return server;
}

/**
 * Sends each message over one reliable connection and hands each reply to `onReply`, in order.
 * @throws {SocketError} `ECONNREFUSED` when no server listens there (the connected socket hears
 *   the ICMP error), `ERR_TIMEOUT` when no SYN_ACK comes, or the connection's failure.
 */
export async function runReliableClient(
  options: ReliableEchoOptions & {
    messages: Iterable<string> | AsyncIterable<string>;
    onReply?: (seq: number, reply: string) => void;
    signal?: AbortSignal;
  },
): Promise<{ messages: number; retransmissions: number; elapsedMs: number }> {
  const { host = DEFAULT_HOST, port = UDP_ECHO_PORT, trace, onSegment, signal } = options;
  // socket + connect + handshake: SYN → SYN_ACK → ACK with a random connection id.
  const connection = await connect(`udp://${host.includes(":") ? `[${host}]` : host}:${port}`, {
    ...(trace === undefined ? {} : { trace }),
    ...(onSegment === undefined ? {} : { onSegment: (e) => onSegment(segmentLine(e)) }),
    ...(signal === undefined ? {} : { signal }),
  });
  const started = performance.now();
  let received = 0;
  try {
    const replies = connection[Symbol.asyncIterator]();
    for await (const message of options.messages) {
      // send: numbered, acknowledged, sent again until acknowledged.
      await connection.send(message);
      // recv: the reply to this message; replies come in order, each once.
      const next = await replies.next();
      if (next.done) break;
      received++;
      options.onReply?.(received, withoutLineBreak(next.value));
    }
    return {
      messages: received,
      retransmissions: connection.stats.retransmissions,
      elapsedMs: performance.now() - started,
    };
  } finally {
    // close: FIN each way, then the port is free again.
    await connection.close();
  }
}
