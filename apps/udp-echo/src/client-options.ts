/**
 * The types and defaults of the udp-echo client (client.ts tells its socket story): options,
 * replies, events and the summary.
 */

import { DEFAULT_HOST, type Endpoint, type TraceListener } from "@socket-lab/core";
import { UDP_ECHO_PORT } from "./server-options.js";

/** The tutorial's message. */
export const UDP_ECHO_MESSAGE = "Hello from client";
/** Default time to wait for each reply before sending again, in ms. */
export const UDP_ECHO_REPLY_TIMEOUT_MS = 1_000;
/** Default number of times a message is sent again when no reply comes. */
export const UDP_ECHO_RETRIES = 3;

/** Earlier messages remembered to tell their late echoes from the reply being waited for. */
export const REMEMBERED_MESSAGES = 16;

/** Options of {@link runClient}. */
export interface EchoClientOptions {
  /** Server host; a name such as `localhost` is sent to every address it has (::1 and 127.0.0.1) until one answers. @default "127.0.0.1" */
  host?: string;
  /** Server port. @default 7001 */
  port?: number;
  /** The messages to send, one datagram each, in order. @default ["Hello from client"] */
  messages?: Iterable<string> | AsyncIterable<string>;
  /** How long to wait for each reply before sending again, in ms. @default UDP_ECHO_REPLY_TIMEOUT_MS (1000) */
  replyTimeoutMs?: number;
  /** Times a message is sent again when no reply comes: at most `retries + 1` tries. @default UDP_ECHO_RETRIES (3) */
  retries?: number;
  /**
   * Count a datagram from the server as the reply only if it is the message itself (an echo
   * server); anything else from there is garbage. Without it, a server's fixed `--reply`
   * answers too. @default false
   */
  expectEcho?: boolean;
  /** Receives every socket call (socket, bind, sendto, recvfrom, close). @default undefined */
  trace?: TraceListener;
  /** Receives each reply as it arrives, in the order of the messages. @default undefined */
  onReply?: (reply: EchoReply) => void;
  /** Receives each retry and each late datagram ignored, as they happen. @default undefined */
  onEvent?: (event: EchoClientEvent) => void;
  /** Aborts the exchange and closes the socket. @default undefined */
  signal?: AbortSignal;
}

/** One message and the server's answer to it. */
export interface EchoReply {
  /** 1 for the first message. */
  readonly seq: number;
  readonly message: string;
  /** The reply datagram as text, without a final line break. */
  readonly reply: string;
  /** How many times the message was sent: 1 unless a reply was late or lost. */
  readonly tries: number;
}

/**
 * What {@link runClient} did.
 * @example
 * import { runClient } from "./client.js";
 * import { startServer } from "./server.js";
 * const server = await startServer({ port: 0 }); // say port 7001
 * await runClient({ port: server.endpoint.port, onReply: ({ reply }) => console.log(reply) });
 * //=> Hello from client
 * await runClient({ port: server.endpoint.port })
 * //=> { server: { transport: "udp", host: "127.0.0.1", port: 7001 }, messages: 1, retries: 0, late: 0, garbage: 0, elapsedMs: 0.6 }
 * await server.close();
 */
export interface EchoClientSummary {
  /** The address that answered. */
  readonly server: Endpoint;
  /** Messages sent; every one was answered, or `runClient` would have thrown. */
  readonly messages: number;
  /** Datagrams sent again because a reply did not come in time. */
  readonly retries: number;
  /** Datagrams from the server ignored: late or duplicate replies to earlier messages. */
  readonly late: number;
  /**
   * Datagrams ignored as garbage: from anyone but the server, or (with `expectEcho`) from the
   * server but not the echo of any recent message.
   */
  readonly garbage: number;
  /** From the first send to the last reply, in ms. */
  readonly elapsedMs: number;
}

/** What happens while the client waits for a reply, besides the reply. */
export type EchoClientEvent =
  | {
      /** No reply to message `seq` within `replyTimeoutMs`: it is sent again, try number `tries`. */
      readonly type: "retry";
      readonly seq: number;
      readonly tries: number;
    }
  | {
      /**
       * Before or while message `seq` was sent, the server sent the text of earlier message
       * `of` again (`undefined` when it was another text, queued before the send): a
       * duplicate, the answer to a retry, or a reply slower than the others. Ignored
       * (counted in `late`).
       */
      readonly type: "late";
      readonly seq: number;
      readonly of: number | undefined;
    };

export const CLIENT_DEFAULTS = {
  host: DEFAULT_HOST,
  port: UDP_ECHO_PORT,
  messages: [UDP_ECHO_MESSAGE] as Iterable<string> | AsyncIterable<string>,
  replyTimeoutMs: UDP_ECHO_REPLY_TIMEOUT_MS,
  retries: UDP_ECHO_RETRIES,
  expectEcho: false,
};
