#!/usr/bin/env node
/**
 * `udp-echo-server`: flags in, printed events out. The socket story is in server.ts.
 *
 * Run it in two terminals:
 *   pnpm udp:server      # terminal 1: listening on udp://127.0.0.1:7001
 *   pnpm udp:client      # terminal 2: Hello from client
 *
 * Unlike tcp-echo-server it has no --backlog, --max-connections, --idle-timeout or --framing:
 * a datagram socket has no listen() queue and no connections, and each datagram is a message.
 */

import { once } from "node:events";
import { formatAddress, formatEndpoint, UDP_MAX_PAYLOAD_IPV4 } from "@socket-lab/core";
import {
  counted,
  createPrinter,
  HOST_FLAG,
  ifGiven,
  JSON_FLAG,
  parseHostFlag,
  parseLineFlag,
  parseNumberFlag,
  parsePortFlag,
  portFlag,
  printable,
  runCommand,
  TRACE_FLAG,
  traceFlag,
} from "@socket-lab/core/cli";
import pkg from "../package.json" with { type: "json" };
import {
  DEFAULT_MAX_AMPLIFICATION,
  DEFAULT_PORT,
  type EchoServerEvent,
  startServer,
} from "./server.js";

process.exitCode = await runCommand({
  name: "udp-echo-server",
  version: pkg.version,
  description: "a UDP server that answers every datagram from anyone (echo, or a fixed reply)",
  usage: "[options]",
  flags: {
    host: HOST_FLAG,
    port: portFlag(DEFAULT_PORT),
    reply: {
      type: "string",
      valueName: "TEXT",
      description: "answer every message with TEXT, like the tutorial's 'Hello from server'",
      defaultText: "echo the message",
    },
    "max-amplification": {
      type: "string",
      valueName: "RATIO",
      description:
        "send no reply larger than RATIO × the request's bytes (a forged sender cannot use us to flood a victim); a larger --reply is not sent",
      defaultText: String(DEFAULT_MAX_AMPLIFICATION),
    },
    trace: TRACE_FLAG,
    json: JSON_FLAG,
  },
  examples: [
    "udp-echo-server",
    "udp-echo-server --port 0 --reply 'Hello from server'",
    "udp-echo-server --reply 'a longer answer than most questions' --max-amplification 10",
  ],
  hints: {
    EADDRINUSE:
      "Another program (perhaps an earlier udp-echo-server) holds that port: stop it, or choose another with --port (--port 0 picks a free one).",
  },
  async run({ values, signal, stdout, stderr }) {
    const print = createPrinter(stdout, values.json);
    const server = await startServer({
      host: ifGiven(values.host, (v) => parseHostFlag("host", v)),
      port: ifGiven(values.port, (v) => parsePortFlag("port", v)),
      reply: ifGiven(values.reply, (v) => parseLineFlag("reply", v)),
      maxAmplification: ifGiven(values["max-amplification"], (v) =>
        parseNumberFlag("max-amplification", v, { min: 1, max: UDP_MAX_PAYLOAD_IPV4 }),
      ),
      trace: traceFlag(values.trace, stderr, { role: "server", name: "udp-echo-server" }),
      onEvent: (event) => print(...describe(event)),
    });
    const endpoint = formatEndpoint(server.endpoint);
    print(`listening on ${endpoint}`, { event: "listening", endpoint });

    // Serve until Ctrl-C (SIGINT) or SIGTERM, then stop and count.
    if (!signal.aborted) await once(signal, "abort");
    const { peers, messages, refused } = await server.close();
    const notSent = refused > 0 ? `, ${counted(refused, "reply", "replies")} not sent` : "";
    print(`stopped: ${counted(peers, "peer")}, ${counted(messages, "message")}${notSent}`, {
      event: "stopped",
      peers,
      messages,
      refused,
    });
  },
});

/** One event as a line of text and as a JSON record. */
function describe(event: EchoServerEvent): [string, Record<string, unknown>] {
  if (event.type === "error") {
    const remote = event.remote === undefined ? undefined : formatAddress(event.remote);
    const { code, message } = event.error;
    return [`${remote ?? "socket"}: ${message}`, { event: "error", remote, code, message }];
  }
  const from = formatAddress(event.from);
  const { text, reply, sent, receivedBytes, replyBytes } = event;
  const data = { event: "message", from, text, reply, sent, receivedBytes, replyBytes };
  if (sent) return [`${from}: ${printable(text)}`, data];
  return [
    `${from}: ${printable(text)} — reply not sent: ${replyBytes} bytes for ${counted(receivedBytes, "byte")} received (--max-amplification)`,
    data,
  ];
}
