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
 *   pnpm udp:client                          # terminal 2: a > prompt; type, see it come back
 *   printf 'one\ntwo\n' | pnpm udp:client    # one datagram per line: one, two
 */

import { withDefaults } from "@socket-lab/cli";
import type { InetEndpoint } from "@socket-lab/core";
import { bind, type UdpSocket } from "@socket-lab/udp";
import {
  CLIENT_DEFAULTS,
  type EchoClientOptions,
  type EchoClientSummary,
  REMEMBERED_MESSAGES,
} from "./client-options.js";
import {
  addressesOf,
  familyOf,
  localFor,
  noReply,
  receiveFirst,
  takeQueued,
} from "./internal/client-steps.js";
import { withoutLineBreak } from "./internal/line-break.js";

/**
 * Sends each message as one datagram, waits for its reply (sending again after each
 * `replyTimeoutMs`, at most `retries` times), then sends the next. The wire carries raw text, no
 * request id, so the text is the id: only a datagram from the server's address can be a reply;
 * one that repeats an earlier message is its late echo, ignored; any other is the reply
 * (unless `expectEcho`: then only the message itself). Datagrams from anyone else are garbage.
 *
 * @throws {SocketError} `ERR_TIMEOUT` when a message gets no reply after every try;
 *   `ENOTFOUND` for an unknown host; `ERR_DATAGRAM_TOO_LARGE` over 65,507 bytes (IPv4).
 * @example Fragment: needs a server on port 7001 (EchoClientSummary's example runs one)
 * await runClient({ port: 7001, onReply: ({ reply }) => console.log(reply) }); // Hello from client
 */
export async function runClient(options: EchoClientOptions = {}): Promise<EchoClientSummary> {
  const settings = withDefaults(CLIENT_DEFAULTS, options);
  const { host, port, messages, replyTimeoutMs, retries, expectEcho, trace, signal } = settings;
  // A name may stand for several addresses: send to each of them until one answers.
  let targets = await addressesOf(host, port);

  // socket + bind: one udp4 and/or one udp6 socket, on an ephemeral port. A family this
  // machine lacks (no IPv6) is left out, as long as another one remains.
  const sockets = new Map<4 | 6, UdpSocket>();
  for (const family of new Set(targets.map(familyOf))) {
    try {
      sockets.set(family, await bind(localFor(targets, family), { trace }));
    } catch (error) {
      targets = targets.filter((target) => familyOf(target) !== family);
      if (targets.length === 0) throw error;
    }
  }
  const fromServer = ({ host, port }: InetEndpoint) =>
    targets.find((target) => target.host === host && target.port === port);
  const started = performance.now();
  const summary = { messages: 0, retries: 0, late: 0, garbage: 0 };
  const earlier: string[] = []; // the latest messages, to tell their late echoes
  const ignoreLate = (seq: number, index: number) => {
    summary.late += 1;
    const of = index === -1 ? undefined : seq - earlier.length + index;
    settings.onEvent?.({ type: "late", seq, of });
  };
  try {
    for await (const message of messages) {
      const seq = ++summary.messages;
      // What waits now came before this message was sent: it cannot be its reply.
      for (const { data, from } of await takeQueued(sockets.values())) {
        if (fromServer(from)) ignoreLate(seq, earlier.lastIndexOf(withoutLineBreak(data)));
        else summary.garbage += 1;
      }
      const firstSend = performance.now();
      let answer: { reply: string; from: InetEndpoint } | undefined;
      let tries = 0;
      while (answer === undefined && tries <= retries) {
        if (++tries > 1) settings.onEvent?.({ type: "retry", seq, tries });
        // sendto: one datagram to each address still in question.
        for (const target of targets) await sockets.get(familyOf(target))?.send(message, target);
        // recvfrom, with a time limit: a datagram from the server, matched by its text.
        const deadline = performance.now() + replyTimeoutMs;
        while (answer === undefined) {
          const wait = deadline - performance.now();
          const datagram = await receiveFirst(sockets.values(), wait, signal);
          if (datagram === undefined) break;
          const [text, from] = [withoutLineBreak(datagram.data), fromServer(datagram.from)];
          const of = text === message ? -1 : earlier.lastIndexOf(text);
          if (from === undefined || (of === -1 && text !== message && expectEcho)) {
            summary.garbage += 1;
          } else if (of !== -1) ignoreLate(seq, of);
          else answer = { reply: text, from };
        }
      }
      summary.retries += tries - 1;
      if (answer === undefined) {
        throw noReply({ host, port }, targets, tries, performance.now() - firstSend, seq);
      }
      // The address that answered is the server: send only there from now on.
      targets = [answer.from];
      earlier.push(message);
      if (earlier.length > REMEMBERED_MESSAGES) earlier.shift();
      settings.onReply?.({ seq, message, reply: answer.reply, tries });
    }
  } finally {
    // close: the ephemeral ports are free again.
    await Promise.all([...sockets.values()].map((socket) => socket.close()));
  }
  const server = targets[0] ?? { transport: "udp", host, port };
  return { server, ...summary, elapsedMs: performance.now() - started };
}
