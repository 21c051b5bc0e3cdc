#!/usr/bin/env node
/**
 * `udp-echo-server`: flags in, printed events out. The socket story is in server.ts.
 *
 * Run it in two terminals:
 *   pnpm udp:server      # terminal 1: listening on udp://127.0.0.1:7001
 *   pnpm udp:client      # terminal 2: a > prompt; type a line, see it come back
 *
 * Unlike tcp-echo-server it has no --backlog, --max-connections, --idle-timeout or --framing:
 * a datagram socket has no listen() queue and no connections, and each datagram is a message.
 */

import { once } from "node:events";
import {
  counted,
  createServerLog,
  HOST_FLAG,
  JSON_FLAG,
  parseLineFlag,
  parseNumberFlag,
  portFlag,
  preview,
  previewOf,
  runCommand,
  TRACE_FLAG,
  traceFlag,
} from "@socket-lab/cli";
import { formatAddress, formatEndpoint, UDP_MAX_PAYLOAD_IPV4 } from "@socket-lab/core";
import pkg from "../package.json" with { type: "json" };
import { startReliableServer } from "./reliable.js";
import { startServer } from "./server.js";
import {
  type EchoServerEvent,
  UDP_ECHO_MAX_AMPLIFICATION,
  UDP_ECHO_PORT,
} from "./server-options.js";

const NAME = "udp-echo-server";

process.exitCode = await runCommand({
  name: NAME,
  version: pkg.version,
  description: "a UDP server that answers every datagram from anyone (echo, or a fixed reply)",
  usage: "[options]",
  flags: {
    host: HOST_FLAG,
    port: portFlag(UDP_ECHO_PORT),
    reply: {
      type: "string",
      valueName: "TEXT",
      description: "answer every message with TEXT, like the tutorial's 'Hello from server'",
      defaultText: "echo the message",
      parse: parseLineFlag, // undefined when absent: echo
    },
    "max-amplification": {
      type: "string",
      valueName: "RATIO",
      description:
        "send no reply larger than RATIO × the request's bytes (a forged sender cannot use us to flood a victim); a larger --reply is not sent",
      parse: (flag, value) => parseNumberFlag(flag, value, { min: 1, max: UDP_MAX_PAYLOAD_IPV4 }),
      default: UDP_ECHO_MAX_AMPLIFICATION,
    },
    reliable: {
      type: "boolean",
      description:
        "serve @socket-lab/reliable-udp connections instead: handshake, SEQ/ACK/SACK, retransmission (--trace shows each segment)",
    },
    trace: TRACE_FLAG,
    json: JSON_FLAG,
  },
  examples: [
    "udp-echo-server",
    "udp-echo-server --reliable --trace",
    "udp-echo-server --port 0 --reply 'Hello from server'",
    "udp-echo-server --reply 'a longer answer than most questions' --max-amplification 10",
  ],
  hints: {
    EADDRINUSE:
      "Another program (perhaps an earlier udp-echo-server) holds that port: stop it, or choose another with --port (--port 0 picks a free one).",
  },
  async run({ values, signal, stdout, stderr }) {
    // Message lines are previews, a few per sender per second; a closed stdout is not fatal.
    const log = createServerLog({ name: NAME, stdout, stderr, json: values.json });
    if (values.reliable) {
      const server = await startReliableServer({
        host: values.host,
        port: values.port,
        reply: values.reply,
        trace: traceFlag(values.trace, stderr, { role: "server", name: "udp-echo-server" }),
        onSegment: values.trace ? (line) => stderr.write(`${line}\n`) : undefined,
        onMessage: (from, text) =>
          log.message(formatAddress(from), () => {
            const { text: shown, moreBytes } = previewOf(text);
            return [
              `${formatAddress(from)}: ${preview(text)}`,
              {
                event: "message",
                from: formatAddress(from),
                text: shown,
                truncated: moreBytes > 0,
              },
            ];
          }),
      });
      const endpoint = formatEndpoint(server.endpoint);
      log.print(`listening (reliable) on ${endpoint}`, { event: "listening", endpoint });
      if (!signal.aborted) await once(signal, "abort");
      const { accepted } = server.stats;
      await server.close({ timeoutMs: 1_000 });
      log.flush();
      log.last(`stopped: ${counted(accepted, "connection")}`, { event: "stopped", accepted });
      return;
    }
    const server = await startServer({
      host: values.host,
      port: values.port,
      reply: values.reply,
      maxAmplification: values["max-amplification"],
      trace: traceFlag(values.trace, stderr, { role: "server", name: "udp-echo-server" }),
      onEvent: (event) => {
        if (event.type === "error" || event.type === "held") log.print(...describe(event));
        else log.message(formatAddress(event.from), () => describe(event));
      },
    });
    const endpoint = formatEndpoint(server.endpoint);
    log.print(`listening on ${endpoint}`, { event: "listening", endpoint });

    // Serve until Ctrl-C (SIGINT) or SIGTERM, then stop and count.
    if (!signal.aborted) await once(signal, "abort");
    const { peers, messages, refused, held } = await server.close();
    const notSent = refused > 0 ? `, ${counted(refused, "reply", "replies")} not sent` : "";
    const heldBack = Object.values(held).reduce((sum, n) => sum + n, 0);
    const withheld = heldBack > 0 ? `, ${counted(heldBack, "reply", "replies")} held back` : "";
    log.flush(); // what was not shown, per sender
    log.last(
      `stopped: ${counted(peers, "peer")}, ${counted(messages, "message")}${notSent}${withheld}`,
      { event: "stopped", peers, messages, refused, held },
    );
  },
});

/** One event as a line of text and as a JSON record. */
function describe(event: EchoServerEvent): [string, Record<string, unknown>] {
  if (event.type === "error") {
    const remote = event.remote === undefined ? undefined : formatAddress(event.remote);
    const { code, message } = event.error;
    return [`${remote ?? "socket"}: ${message}`, { event: "error", remote, code, message }];
  }
  if (event.type === "held") {
    const from = formatAddress(event.from);
    const { reason, count } = event;
    // Why replies are held back (see internal/reply-guard.ts).
    const because = {
      "own-address": "the sender is this server's own address: a forged datagram would loop it",
      "echo-storm": "the same datagram again and again: another echo server?",
      "rate-limit": "over this sender's reply rate",
    }[reason];
    const text = `${from}: ${counted(count, "reply", "replies")} held back (${because})`;
    return [text, { event: "held", reason, from, count }];
  }
  // The peer's text, escaped and cut: a preview in the line, the same in the record.
  const from = formatAddress(event.from);
  const { sent, receivedBytes, replyBytes } = event;
  const { text, moreBytes } = previewOf(event.text);
  const reply = previewOf(event.reply).text;
  const truncated = moreBytes > 0;
  const data = { event: "message", from, text, truncated, reply, sent, receivedBytes, replyBytes };
  if (sent) return [`${from}: ${preview(event.text)}`, data];
  return [
    `${from}: ${preview(event.text)} — reply not sent: ${replyBytes} bytes for ${counted(receivedBytes, "byte")} received (--max-amplification)`,
    data,
  ];
}
