/**
 * udp-echo server — the tutorial's datagram server.
 *
 * What it shows: a datagram server calls socket → bind and that is all: no listen, no accept,
 * no connection. One socket receives every client's datagrams, each one whole and tagged with
 * its sender's address, and the answer goes back to that address with sendto(). Nothing is
 * promised: a datagram may be lost, duplicated or reordered, so clients retry (see client.ts).
 *
 * Run it in two terminals:
 *   pnpm udp:server      # terminal 1: listening on udp://127.0.0.1:7001
 *   pnpm udp:client      # terminal 2: Hello from client
 *
 * Read this file first, then client.ts; server-cli.ts only turns flags into these options.
 */

import {
  DEFAULT_HOST,
  type Endpoint,
  explain,
  formatAddress,
  type SocketError,
  type TraceListener,
} from "@socket-lab/core";
import { withDefaults } from "@socket-lab/core/cli";
import { bind, type Datagram } from "@socket-lab/udp";
import { lineBreakOf, withoutLineBreak } from "./_line-break.js";
import { type HoldReason, ReplyGuard } from "./_reply-guard.js";

/** The port udp-echo listens on unless told otherwise (tcp-echo uses 7000). */
export const DEFAULT_PORT = 7001;

/**
 * Default largest reply, as a multiple of the request's size: 1, so the server never sends
 * more bytes than it received. A source address in UDP can be forged; a server that answers
 * small requests with big replies lets an attacker aim them at a victim (reflection) and
 * multiply its bandwidth (amplification).
 */
export const DEFAULT_MAX_AMPLIFICATION = 1;

/** Default replies per second to one sender (address and port), once its burst is spent. */
export const DEFAULT_REPLY_RATE = 2_000;
/** Default most replies one sender gets at once, before `replyRate` paces it. */
export const DEFAULT_REPLY_BURST = 2_000;
/**
 * Default identical datagrams in a row from one sender, each answered, after which the next
 * one is not: two echo servers pointed at each other stop after this many exchanges each.
 */
export const DEFAULT_ECHO_STORM_REPEATS = 16;

/** Distinct senders remembered for the summary; beyond it they are no longer told apart. */
const MAX_TRACKED_PEERS = 65_536;

/** Options of {@link startServer}. */
export interface EchoServerOptions {
  /** Address to bind; loopback, so nothing outside this machine can reach it. @default "127.0.0.1" */
  host?: string;
  /** Port to bind; 0 lets the system choose a free one (read it from `endpoint`). @default 7001 */
  port?: number;
  /** A fixed answer to every datagram, like the tutorial's "Hello from server". @default undefined (echo) */
  reply?: string;
  /**
   * Largest reply as a multiple of the request's size in bytes; a larger reply is not sent
   * (the `message` event says so). Only `reply` can exceed it: an echo is the request's size.
   * @default DEFAULT_MAX_AMPLIFICATION (1)
   */
  maxAmplification?: number;
  /**
   * Replies per second each sender (address and port) gets once its burst is spent; a reply
   * beyond it is not sent (`held` event, reason "rate-limit").
   * @default DEFAULT_REPLY_RATE (2000)
   */
  replyRate?: number;
  /** Most replies one sender gets at once. @default DEFAULT_REPLY_BURST (2000) */
  replyBurst?: number;
  /**
   * Identical datagrams in a row from one sender, each answered, after which the next one is
   * not (reason "echo-storm"): what ends a loop between two echo servers.
   * @default DEFAULT_ECHO_STORM_REPEATS (16)
   */
  echoStormRepeats?: number;
  /** Receives every socket call (socket, bind, recvfrom, sendto, close). @default undefined */
  trace?: TraceListener;
  /** Receives each datagram and what was done with it, for printing. @default undefined */
  onEvent?: (event: EchoServerEvent) => void;
}

/** What happens on the server's socket, in order. */
export type EchoServerEvent =
  | {
      readonly type: "message";
      readonly from: Endpoint;
      /** The datagram as text, without a final line break. */
      readonly text: string;
      /** The answer as text, without a final line break. */
      readonly reply: string;
      /** False when the reply was larger than `maxAmplification` allows, and not sent. */
      readonly sent: boolean;
      readonly receivedBytes: number;
      readonly replyBytes: number;
    }
  | {
      /**
       * Replies not sent to keep the server from being looped or used for a flood: to its own
       * address, in an echo storm, or over a sender's rate. Reported at the first, then at most
       * once a second per reason, never once per datagram.
       */
      readonly type: "held";
      readonly reason: HoldReason;
      /** The sender of the latest datagram held back. */
      readonly from: Endpoint;
      /** Replies held back for this reason since the previous `held` event for it. */
      readonly count: number;
    }
  | { readonly type: "error"; readonly remote?: Endpoint; readonly error: SocketError };

/** Counts over the server's life, returned by `close()`. */
export interface EchoServerSummary {
  /** Distinct sender addresses (ip:port) seen, counted up to 65,536. */
  readonly peers: number;
  /** Datagrams received. */
  readonly messages: number;
  /** Replies not sent because they were too large (see `maxAmplification`). */
  readonly refused: number;
  /** Replies not sent to the server's own address, in an echo storm, or over a sender's rate. */
  readonly held: Readonly<Record<HoldReason, number>>;
}

/** A running echo server. */
export interface EchoServer {
  /** The bound endpoint, with the real port when 0 was asked for. */
  readonly endpoint: Endpoint;
  /** Closes the socket (datagrams that arrive later are refused by the kernel) and counts. */
  close(): Promise<EchoServerSummary>;
}

const DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  maxAmplification: DEFAULT_MAX_AMPLIFICATION,
  replyRate: DEFAULT_REPLY_RATE,
  replyBurst: DEFAULT_REPLY_BURST,
  echoStormRepeats: DEFAULT_ECHO_STORM_REPEATS,
};

/**
 * Starts the echo server: binds, and answers every datagram from anyone — with the datagram
 * itself, or with `reply` (followed by the request's line break, if it ended with one, so that
 * `nc -u` prints it on a line of its own) — except its own address, an echo storm, or a sender
 * over its rate (see `replyRate`, `echoStormRepeats`).
 *
 * @throws {SocketError} `EADDRINUSE` when the port is taken, `EACCES` below 1024, …
 * @throws {RangeError} for a `maxAmplification` below 1, a `replyRate` not above 0, or a
 *   `replyBurst` or `echoStormRepeats` that is not a whole number from 1.
 * @example
 * const server = await startServer({ port: 0, reply: "Hello from server" });
 * server.endpoint //=> { transport: "udp", host: "127.0.0.1", port: 38211 }
 * await server.close()
 * //=> { peers: 0, messages: 0, refused: 0, held: { "own-address": 0, "echo-storm": 0, "rate-limit": 0 } }
 */
export async function startServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const settings = withDefaults(DEFAULTS, options);
  const { host, port, reply, maxAmplification, replyRate, replyBurst, echoStormRepeats } = settings;
  const { trace, onEvent } = settings;
  if (!(maxAmplification >= 1)) {
    throw new RangeError(`maxAmplification must be at least 1, got ${maxAmplification}`);
  }
  if (!(replyRate > 0)) throw new RangeError(`replyRate must be above 0, got ${replyRate}`);
  for (const [name, value] of Object.entries({ replyBurst, echoStormRepeats })) {
    if (!(Number.isInteger(value) && value >= 1)) {
      throw new RangeError(`${name} must be a whole number from 1, got ${value}`);
    }
  }
  const emit = onEvent ?? (() => {});
  const peers = new Set<string>();
  let messages = 0;
  let refused = 0;

  // socket + bind: one socket for every client. The kernel now delivers datagrams sent to this
  // address and port to us; there is no listen() and no accept().
  const socket = await bind({ transport: "udp", host, port }, { trace });
  const guard = new ReplyGuard(socket.local, {
    rate: replyRate,
    burst: replyBurst,
    stormRepeats: echoStormRepeats,
  });

  async function answer({ data, from }: Datagram): Promise<void> {
    messages += 1;
    if (peers.size < MAX_TRACKED_PEERS) peers.add(formatAddress(from));
    // Never answer ourselves, an echo storm, or a sender over its rate: a forged sender could
    // otherwise loop us forever.
    const held = guard.check(from, data);
    if (held !== undefined) {
      const count = guard.reportDue(held);
      if (count !== undefined) emit({ type: "held", reason: held, from, count });
      return;
    }
    const response = reply === undefined ? data : Buffer.from(reply + lineBreakOf(data));
    // Never answer with more than maxAmplification times what the sender sent.
    const sent = response.length <= data.length * maxAmplification;
    emit({
      type: "message",
      from,
      text: withoutLineBreak(data),
      reply: withoutLineBreak(response),
      sent,
      receivedBytes: data.length,
      replyBytes: response.length,
    });
    if (!sent) {
      refused += 1;
      return;
    }
    // sendto: the reply goes to the address the datagram came from.
    await socket.send(response, from);
  }

  // recvfrom: each datagram arrives whole, with its sender. The loop ends when close() is called.
  const receiving = (async () => {
    for (;;) {
      try {
        for await (const datagram of socket) {
          await answer(datagram).catch((error: unknown) =>
            emit({ type: "error", remote: datagram.from, error: explain(error) }),
          );
        }
        return;
      } catch (error) {
        // A socket error is reported once; the socket goes on receiving.
        emit({ type: "error", error: explain(error) });
      }
    }
  })();

  return {
    endpoint: socket.local,
    async close() {
      // close: the port is free again.
      await socket.close();
      await receiving;
      return { peers: peers.size, messages, refused, held: { ...guard.held } };
    },
  };
}
