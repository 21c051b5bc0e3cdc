#!/usr/bin/env node
/**
 * `udp-echo-client`: flags in, replies out. The socket story is in client.ts.
 *
 * Run it in two terminals:
 *   pnpm udp:server                          # terminal 1
 *   pnpm udp:client                          # terminal 2: Hello from client
 *   printf 'one\ntwo\n' | pnpm udp:client    # one datagram per line: one, two
 *
 * Unlike tcp-echo-client it has --retries: TCP retransmits lost segments itself, UDP does not.
 */

import { formatEndpoint } from "@socket-lab/core";
import {
  clientMessages,
  counted,
  createPrinter,
  HOST_FLAG,
  ifGiven,
  JSON_FLAG,
  parseHostFlag,
  parseIntegerFlag,
  parseLineFlag,
  parsePortFlag,
  parseSecondsFlag,
  portFlag,
  runCommand,
  TRACE_FLAG,
  traceFlag,
  UsageError,
} from "@socket-lab/core/cli";
import pkg from "../package.json" with { type: "json" };
import { DEFAULT_MESSAGE, DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, runClient } from "./client.js";
import { DEFAULT_PORT } from "./server.js";

process.exitCode = await runCommand({
  name: "udp-echo-client",
  version: pkg.version,
  description: "send datagrams to a UDP echo server and print its replies, in order",
  usage: "[HOST] [options]   (messages: --message, --count, or one per line of piped stdin)",
  maxPositionals: 1,
  flags: {
    host: HOST_FLAG,
    port: portFlag(DEFAULT_PORT),
    message: {
      type: "string",
      short: "m",
      valueName: "TEXT",
      description: "send TEXT (without it: one message per line of piped stdin)",
      defaultText: DEFAULT_MESSAGE,
    },
    count: {
      type: "string",
      short: "n",
      valueName: "N",
      description: "send N numbered messages ('Hello from client 1', …) and print a summary",
    },
    timeout: {
      type: "string",
      valueName: "SECONDS",
      description: "wait this long for each reply before sending the message again",
      defaultText: String(DEFAULT_TIMEOUT_MS / 1000),
    },
    retries: {
      type: "string",
      valueName: "N",
      description: "send a message again at most N times before giving up",
      defaultText: String(DEFAULT_RETRIES),
    },
    trace: TRACE_FLAG,
    json: JSON_FLAG,
  },
  examples: [
    "udp-echo-client",
    "udp-echo-client localhost --port 7001 --message 'Hi there'",
    "printf 'one\\ntwo\\n' | udp-echo-client",
    "udp-echo-client --count 1000 --timeout 0.2 --retries 5 --json",
  ],
  hints: {
    ERR_TIMEOUT:
      "Is udp-echo-server running? Start one with: pnpm udp:server (with no connection, a stopped server looks just like lost datagrams)",
  },
  async run({ values, positionals, signal, stdin, stdout, stderr }) {
    const [hostArgument] = positionals;
    if (hostArgument !== undefined && values.host !== undefined) {
      throw new UsageError("give the host once: as HOST or as --host");
    }
    const message = ifGiven(values.message, (v) => parseLineFlag("message", v));
    const count = ifGiven(values.count, (v) =>
      parseIntegerFlag("count", v, { min: 1, max: 1_000_000 }),
    );
    const print = createPrinter(stdout, values.json);
    try {
      const summary = await runClient({
        host: ifGiven(hostArgument ?? values.host, (v) => parseHostFlag("host", v)),
        port: ifGiven(values.port, (v) => parsePortFlag("port", v)),
        timeoutMs: ifGiven(values.timeout, (v) =>
          parseSecondsFlag("timeout", v, { min: 0.001, max: 3_600 }),
        ),
        retries: ifGiven(values.retries, (v) => parseIntegerFlag("retries", v, { max: 100 })),
        messages: clientMessages({ message, count, stdin, fallback: DEFAULT_MESSAGE }),
        trace: traceFlag(values.trace, stderr, { role: "client", name: "udp-echo-client" }),
        signal,
        // With --count only the summary is printed; otherwise each reply, as it comes.
        onReply: ({ seq, message, reply, tries }) => {
          if (count === undefined) print(reply, { event: "reply", seq, message, reply, tries });
        },
      });
      if (count !== undefined) {
        const server = formatEndpoint(summary.server);
        const { messages, retries } = summary;
        const elapsedMs = Math.round(summary.elapsedMs * 10) / 10;
        print(
          `sent ${counted(messages, "message")} to ${server}, got every reply in ${elapsedMs.toFixed(1)} ms (${counted(retries, "retry", "retries")})`,
          { event: "summary", server, messages, replies: messages, retries, elapsedMs },
        );
      }
    } finally {
      // Stop reading a pipe that may stay open (we gave up before it ended).
      stdin.destroy();
    }
  },
});
