/**
 * udp-echo client — the tutorial's datagram client.
 *
 * What it shows: a datagram client calls socket (and bind, which sendto() would otherwise do
 * for it) and then simply sends: there is no connect, no handshake, and so no "connection
 * refused" — a missing server looks exactly like a lost datagram. So the client waits for each
 * reply with a time limit and sends again, a few times, before it gives up and says so. Each
 * message is one datagram of raw text, which is why `nc -u` and `socat` can take part.
 *
 * Run it in two terminals:
 *   pnpm udp:server                          # terminal 1
 *   pnpm udp:client                          # terminal 2: Hello from client
 *   printf 'one\ntwo\n' | pnpm udp:client    # one datagram per line: one, two
 */

import { lookup } from "node:dns/promises";
import {
  DEFAULT_HOST,
  type Endpoint,
  ErrorCode,
  formatAddress,
  type InetEndpoint,
  SocketError,
  type TraceListener,
} from "@socket-lab/core";
import { counted, withDefaults } from "@socket-lab/core/cli";
import { bind, type UdpSocket } from "@socket-lab/udp";
import { withoutLineBreak } from "./_line-break.js";
import { ReplyInbox } from "./_reply-inbox.js";
import { DEFAULT_PORT } from "./server.js";

/** The tutorial's message. */
export const DEFAULT_MESSAGE = "Hello from client";
/** Default time to wait for each reply before sending again, in ms. */
export const DEFAULT_TIMEOUT_MS = 1_000;
/** Default number of times a message is sent again when no reply comes. */
export const DEFAULT_RETRIES = 3;

/** Earlier messages remembered to tell their late echoes from the reply being waited for. */
const REMEMBERED_MESSAGES = 16;

/** Options of {@link runClient}. */
export interface EchoClientOptions {
  /** Server host; a name such as `localhost` is sent to every address it has (::1 and 127.0.0.1) until one answers. @default "127.0.0.1" */
  host?: string;
  /** Server port. @default 7001 */
  port?: number;
  /** The messages to send, one datagram each, in order. @default ["Hello from client"] */
  messages?: Iterable<string> | AsyncIterable<string>;
  /** How long to wait for each reply before sending again, in ms. @default DEFAULT_TIMEOUT_MS (1000) */
  timeoutMs?: number;
  /** Times a message is sent again when no reply comes: at most `retries + 1` tries. @default DEFAULT_RETRIES (3) */
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

/** What {@link runClient} did. */
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

const DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  messages: [DEFAULT_MESSAGE] as Iterable<string> | AsyncIterable<string>,
  timeoutMs: DEFAULT_TIMEOUT_MS,
  retries: DEFAULT_RETRIES,
  expectEcho: false,
};

/**
 * Sends each message as one datagram, waits for its reply (sending again after each
 * `timeoutMs`, at most `retries` times), then sends the next.
 *
 * Replies are matched to messages by sender and content — the wire carries raw text, no
 * request id, so the text is the id (`--count` numbers it): only a datagram from the server's
 * address can be a reply; one that repeats an earlier message is its late echo, and ignored;
 * the echo of the current message is its reply, and so is (unless `expectEcho`) any other
 * text from the server, a fixed `--reply`. Datagrams from anyone else are counted as garbage
 * and dropped as they arrive, so a flood of them cannot crowd out the replies.
 * (`@socket-lab/udp`'s `createRequester` puts ids in a header to do this without doubt.)
 *
 * @throws {SocketError} `ERR_TIMEOUT` when a message gets no reply after every try (no server
 *   runs there, or every datagram was lost); `ENOTFOUND` for an unknown host name;
 *   `ERR_DATAGRAM_TOO_LARGE` for a message over 65,507 bytes (IPv4).
 * @example
 * await runClient({ port: 7001, onReply: ({ reply }) => console.log(reply) });
 * // prints: Hello from client
 * //=> { server: { transport: "udp", host: "127.0.0.1", port: 7001 }, messages: 1, retries: 0, late: 0, garbage: 0, elapsedMs: 0.6 }
 */
export async function runClient(options: EchoClientOptions = {}): Promise<EchoClientSummary> {
  const settings = withDefaults(DEFAULTS, options);
  const { host, port, messages, timeoutMs, retries, expectEcho, trace, onReply, signal } = settings;
  // A name may stand for several addresses: send to each of them until one answers.
  let targets: InetEndpoint[] = (await addressesOf(host)).map((address) => ({
    transport: "udp",
    host: address,
    port,
  }));

  // socket + bind: one udp4 and/or one udp6 socket, on an ephemeral port. For loopback we bind
  // loopback; otherwise the wildcard address, as sendto() on an unbound socket would. A family
  // this machine lacks (no IPv6) is left out, as long as another one remains.
  const sockets = new Map<4 | 6, UdpSocket>();
  for (const family of new Set(targets.map((target) => familyOf(target.host)))) {
    const sameFamily = targets.filter((target) => familyOf(target.host) === family);
    const loopback = sameFamily.every((t) => t.host === "::1" || t.host.startsWith("127."));
    const local = family === 6 ? (loopback ? "[::1]" : "[::]") : loopback ? "127.0.0.1" : "0.0.0.0";
    try {
      sockets.set(family, await bind(`udp://${local}:0`, { trace }));
    } catch (error) {
      targets = targets.filter((target) => familyOf(target.host) !== family);
      if (targets.length === 0) {
        await Promise.all([...sockets.values()].map((socket) => socket.close()));
        throw error;
      }
    }
  }
  // Only the server's address counts: anything else is garbage, dropped as it arrives.
  const inbox = new ReplyInbox([...sockets.values()], ({ from }) =>
    targets.some((t) => t.host === from.host && t.port === from.port),
  );
  const abort = () => inbox.close();
  signal?.addEventListener("abort", abort, { once: true });

  const started = performance.now();
  let seq = 0;
  let resent = 0;
  let late = 0;
  let garbage = 0;
  const earlier: string[] = [];
  try {
    for await (const message of messages) {
      seq += 1;
      // What waits now came before this message was sent: it cannot be its reply.
      late += inbox.clear();
      const firstSend = performance.now();
      let answer: { reply: string; from: InetEndpoint } | undefined;
      let tries = 0;
      while (answer === undefined && tries <= retries && signal?.aborted !== true) {
        tries += 1;
        if (tries > 1) resent += 1;
        // sendto: one datagram to each address still in question.
        for (const target of targets) {
          await sockets.get(familyOf(target.host))?.send(message, target);
        }
        // recvfrom, with a time limit: a datagram from the server, matched by its text.
        const deadline = performance.now() + timeoutMs;
        while (answer === undefined) {
          const datagram = await inbox.take(deadline - performance.now());
          if (datagram === undefined) break;
          const text = withoutLineBreak(datagram.data);
          const from = targets.find(
            (t) => t.port === datagram.from.port && t.host === datagram.from.host,
          );
          if (from === undefined) garbage += 1;
          else if (text !== message && earlier.includes(text)) late += 1;
          else if (text !== message && expectEcho) garbage += 1;
          else answer = { reply: text, from };
        }
      }
      if (signal?.aborted === true) throw signal.reason;
      if (answer === undefined) {
        throw noReply(host, port, targets, tries, performance.now() - firstSend, seq);
      }
      // The address that answered is the server: send only there from now on.
      targets = [answer.from];
      earlier.push(message);
      if (earlier.length > REMEMBERED_MESSAGES) earlier.shift();
      onReply?.({ seq, message, reply: answer.reply, tries });
    }
  } finally {
    signal?.removeEventListener("abort", abort);
    inbox.close();
    // close: the ephemeral ports are free again.
    await Promise.all([...sockets.values()].map((socket) => socket.close()));
  }
  return {
    server: targets[0] ?? { transport: "udp", host, port },
    messages: seq,
    retries: resent,
    late,
    garbage: garbage + inbox.rejected,
    elapsedMs: performance.now() - started,
  };
}

/**
 * The addresses to try for `host`. `localhost` is always both loopbacks, ::1 and 127.0.0.1,
 * whatever /etc/hosts says (many list only one), since a server may have bound either.
 */
async function addressesOf(host: string): Promise<string[]> {
  if (host.toLowerCase() === "localhost") return ["::1", "127.0.0.1"];
  return (await lookup(host, { all: true })).map(({ address }) => address);
}

function familyOf(address: string): 4 | 6 {
  return address.includes(":") ? 6 : 4;
}

function noReply(
  host: string,
  port: number,
  targets: readonly InetEndpoint[],
  tries: number,
  elapsedMs: number,
  seq: number,
): SocketError {
  const asked = formatAddress({ transport: "udp", host, port });
  const tried = targets.map((t) => formatAddress(t)).join(" and ");
  const where = targets.length === 1 && tried === asked ? asked : `${asked} (${tried})`;
  const which = seq === 1 ? "" : ` to message ${seq}`;
  return new SocketError(
    ErrorCode.ERR_TIMEOUT,
    `no reply${which} from ${where} after ${counted(tries, "try", "tries")} over ${(elapsedMs / 1000).toFixed(1)} s`,
    {
      hint: "Is a UDP echo server running there? Without a connection, a stopped server looks just like lost datagrams. A running server may also refuse, without a word, a reply larger than the message (udp-echo-server's --max-amplification).",
    },
  );
}
