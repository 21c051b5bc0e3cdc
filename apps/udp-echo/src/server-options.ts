/**
 * The types and defaults of the udp-echo server (server.ts tells its socket story): options,
 * the events it reports, its summary, and the checks of the options, applied once.
 */

import {
  DEFAULT_HOST,
  type Endpoint,
  type InetEndpoint,
  type SocketError,
  type TraceListener,
} from "@socket-lab/core";
import { checkInteger, checkNumber, outOfRange, withDefaults } from "@socket-lab/core/internal";
import type { HoldReason } from "./internal/reply-guard.js";

/** The port udp-echo listens on unless told otherwise (tcp-echo uses 7000). */
export const UDP_ECHO_PORT = 7001;

/**
 * Default largest reply, as a multiple of the request's size: 1, so the server never sends
 * more bytes than it received. A source address in UDP can be forged; a server that answers
 * small requests with big replies lets an attacker aim them at a victim (reflection) and
 * multiply its bandwidth (amplification).
 */
export const UDP_ECHO_MAX_AMPLIFICATION = 1;

/** Default replies per second to one sender (address and port), once its burst is spent. */
export const UDP_ECHO_REPLY_RATE = 2_000;
/** Default most replies one sender gets at once, before `replyRate` paces it. */
export const UDP_ECHO_REPLY_BURST = 2_000;
/**
 * Default identical datagrams in a row from one sender, each answered, after which the next
 * one is not: two echo servers pointed at each other stop after this many exchanges each.
 */
export const UDP_ECHO_STORM_REPEATS = 16;

/** Distinct senders remembered for the summary; beyond it they are no longer told apart. */
export const MAX_TRACKED_PEERS = 65_536;

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
   * @default UDP_ECHO_MAX_AMPLIFICATION (1)
   */
  maxAmplification?: number;
  /**
   * Replies per second each sender (address and port) gets once its burst is spent; a reply
   * beyond it is not sent (`held` event, reason "rate-limit").
   * @default UDP_ECHO_REPLY_RATE (2000)
   */
  replyRate?: number;
  /** Most replies one sender gets at once. @default UDP_ECHO_REPLY_BURST (2000) */
  replyBurst?: number;
  /**
   * Identical datagrams in a row from one sender, each answered, after which the next one is
   * not (reason "echo-storm"): what ends a loop between two echo servers.
   * @default UDP_ECHO_STORM_REPEATS (16)
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
  readonly endpoint: InetEndpoint;
  /** Closes the socket (datagrams that arrive later are refused by the kernel) and counts. */
  close(): Promise<EchoServerSummary>;
}

const DEFAULTS = {
  host: DEFAULT_HOST,
  port: UDP_ECHO_PORT,
  maxAmplification: UDP_ECHO_MAX_AMPLIFICATION,
  replyRate: UDP_ECHO_REPLY_RATE,
  replyBurst: UDP_ECHO_REPLY_BURST,
  echoStormRepeats: UDP_ECHO_STORM_REPEATS,
};

/**
 * The options with their defaults, checked.
 * @throws {RangeError} for a `maxAmplification` below 1, a `replyRate` not above 0, or a
 *   `replyBurst` or `echoStormRepeats` that is not a whole number from 1.
 */
export function serverSettings(options: EchoServerOptions) {
  const settings = withDefaults(DEFAULTS, options);
  const { maxAmplification, replyRate, replyBurst, echoStormRepeats } = settings;
  checkNumber("maxAmplification", maxAmplification, 1);
  if (!(checkNumber("replyRate", replyRate) > 0))
    throw outOfRange("replyRate", "a number > 0", replyRate);
  checkInteger("replyBurst", replyBurst, 1);
  checkInteger("echoStormRepeats", echoStormRepeats, 1);
  return settings;
}
