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
 *   pnpm udp:client      # terminal 2: a > prompt; type a line, see it come back
 *
 * Read this file first, then client.ts; server-cli.ts only turns flags into these options.
 */

import { explain, formatAddress } from "@socket-lab/core";
import { bind } from "@socket-lab/udp";
import { lineBreakOf, withoutLineBreak } from "./internal/line-break.js";
import { ReplyGuard } from "./internal/reply-guard.js";
import {
  type EchoServer,
  type EchoServerOptions,
  MAX_TRACKED_PEERS,
  serverSettings,
} from "./server-options.js";

/**
 * Starts the echo server: binds, and answers every datagram from anyone — with the datagram
 * itself, or with `reply` (followed by the request's line break, if it ended with one, so that
 * `nc -u` prints it on a line of its own) — except its own address, an echo storm, or a sender
 * over its rate (see `replyRate`, `echoStormRepeats`).
 *
 * @throws {SocketError} `EADDRINUSE` when the port is taken, `EACCES` below 1024, …
 * @throws {RangeError} for a bad limit (see `serverSettings` in server-options.ts).
 * @example
 * const server = await startServer({ port: 0, reply: "Hello from server" });
 * server.endpoint //=> { transport: "udp", host: "127.0.0.1", port: 38211 }
 * await server.close()
 * //=> { peers: 0, messages: 0, refused: 0, held: { "own-address": 0, "echo-storm": 0, "rate-limit": 0 } }
 */
export async function startServer(options: EchoServerOptions = {}): Promise<EchoServer> {
  const { host, port, reply, maxAmplification, trace, onEvent, ...limits } =
    serverSettings(options);
  const emit = onEvent ?? (() => {});

  // socket + bind: one socket for every client. The kernel now delivers datagrams sent to this
  // address and port to us; there is no listen() and no accept().
  const socket = await bind({ transport: "udp", host, port }, { trace });
  // An ICMP error is reported, and the socket goes on receiving.
  socket.onError((error) => emit({ type: "error", error }));
  const guard = new ReplyGuard(socket.local, {
    rate: limits.replyRate,
    burst: limits.replyBurst,
    stormRepeats: limits.echoStormRepeats,
  });
  const peers = new Set<string>();
  let messages = 0;
  let refused = 0;

  // recvfrom, in a loop: each datagram arrives whole, with its sender. It ends on close().
  const receiving = (async () => {
    for await (const { data, from } of socket) {
      messages += 1;
      if (peers.size < MAX_TRACKED_PEERS) peers.add(formatAddress(from));
      // Never answer ourselves, an echo storm, or a sender over its rate: a forged sender
      // could otherwise loop us forever, or aim us at someone else.
      const held = guard.check(from, data);
      if (held !== undefined) {
        const count = guard.reportDue(held);
        if (count !== undefined) emit({ type: "held", reason: held, from, count });
        continue;
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
        continue;
      }
      // sendto: the reply goes to the address the datagram came from.
      await socket.send(response, from).catch((error: unknown) => {
        emit({ type: "error", remote: from, error: explain(error) });
      });
    }
  })();

  return {
    endpoint: socket.local,
    async close() {
      // close: the port is free again; datagrams sent to it now are refused by the kernel.
      await socket.close();
      await receiving;
      return { peers: peers.size, messages, refused, held: { ...guard.held } };
    },
  };
}
