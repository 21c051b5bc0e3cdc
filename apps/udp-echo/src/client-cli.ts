#!/usr/bin/env node

/**
 * `udp-echo-client`: flags in, replies out. The socket story is in client.ts.
 *
 * Run it in two terminals:
 *   pnpm udp:server                          # terminal 1
 *   pnpm udp:client                          # terminal 2: a > prompt; type, see it come back
 *   printf 'one\ntwo\n' | pnpm udp:client    # one datagram per line: one, two
 *
 * Unlike tcp-echo-client it has --retries: TCP retransmits lost segments itself, UDP does not.
 */

import {
  clientMessages,
  counted,
  createPrinter,
  escapeText,
  HOST_FLAG,
  JSON_FLAG,
  parseHostFlag,
  parseIntegerFlag,
  parseLineFlag,
  parseRateFlag,
  parseSecondsFlag,
  portFlag,
  runCommand,
  TRACE_FLAG,
  traceFlag,
  UsageError,
} from "@socket-lab/cli";
import { DEFAULT_HOST, formatAddress, formatEndpoint } from "@socket-lab/core";
import pkg from "../package.json" with { type: "json" };
import { runClient } from "./client.js";
import { UDP_ECHO_MESSAGE, UDP_ECHO_REPLY_TIMEOUT_MS, UDP_ECHO_RETRIES } from "./client-options.js";
import { typedLines } from "./internal/typed-lines.js";
import { startLossyStory } from "./lossy-story.js";
import { runReliableClient } from "./reliable.js";
import { UDP_ECHO_PORT } from "./server-options.js";

process.exitCode = await runCommand({
  name: "udp-echo-client",
  version: pkg.version,
  description: "send datagrams to a UDP echo server and print its replies, in order",
  usage:
    "[HOST] [options]   (messages: --message, --count, each line typed at the > prompt, or one per line of piped stdin)",
  maxPositionals: 1,
  flags: {
    host: HOST_FLAG,
    port: portFlag(UDP_ECHO_PORT),
    message: {
      type: "string",
      short: "m",
      valueName: "TEXT",
      description:
        "send TEXT (without it: each line typed at the prompt, or one per line of piped stdin)",
      // undefined when absent: then the messages come from the prompt, stdin, or --count.
      defaultText: UDP_ECHO_MESSAGE,
      parse: parseLineFlag,
    },
    count: {
      type: "string",
      short: "n",
      valueName: "N",
      description: "send N numbered messages ('Hello from client 1', …) and print a summary",
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 1_000_000 }),
    },
    timeout: {
      type: "string",
      valueName: "SECONDS",
      description: "wait this long for each reply before sending the message again",
      // undefined when absent (as --retries), so that --reliable can refuse them.
      defaultText: String(UDP_ECHO_REPLY_TIMEOUT_MS / 1000),
      parse: (flag, value) => parseSecondsFlag(flag, value, { min: 0.001, max: 3_600 }),
    },
    retries: {
      type: "string",
      valueName: "N",
      description: "send a message again at most N times before giving up",
      defaultText: String(UDP_ECHO_RETRIES),
      parse: (flag, value) => parseIntegerFlag(flag, value, { max: 100 }),
    },
    "expect-echo": {
      type: "boolean",
      description:
        "take only the message itself back as its reply; any other datagram is garbage (ignored, counted)",
    },
    loss: {
      type: "string",
      valueName: "RATE",
      description:
        "start netsim's lossy link in this process, between client and server, dropping this share of datagrams (0 to 1) both ways, and tell each message's story",
      // undefined when absent (as --duplicate, --reorder, --seed): any of them starts the link.
      parse: parseRateFlag,
    },
    duplicate: {
      type: "string",
      valueName: "RATE",
      description: "with the link: send this share of datagrams twice (0 to 1)",
      parse: parseRateFlag,
    },
    reorder: {
      type: "string",
      valueName: "RATE",
      description:
        "with the link: hold this share of datagrams back until a later one passes (0 to 1)",
      parse: parseRateFlag,
    },
    seed: {
      type: "string",
      valueName: "N",
      description: "with the link: seed of its decisions; the same seed, the same story",
      parse: (flag, value) => parseIntegerFlag(flag, value, { max: 0xffff_ffff }),
    },
    reliable: {
      type: "boolean",
      description:
        "talk to udp-echo-server --reliable over one @socket-lab/reliable-udp connection (--trace shows SEQ/ACK/SACK and retransmissions)",
    },
    trace: TRACE_FLAG,
    json: JSON_FLAG,
  },
  examples: [
    "udp-echo-client",
    "udp-echo-client --reliable --trace",
    "udp-echo-client localhost --port 7001 --message 'Hi there'",
    "printf 'one\\ntwo\\n' | udp-echo-client",
    "udp-echo-client --count 1000 --timeout 0.2 --retries 5 --json",
    "udp-echo-client --count 10 --loss 0.2 --duplicate 0.1 --reorder 0.1 --seed 7",
  ],
  hints: {
    ERR_TIMEOUT:
      "Is udp-echo-server running? Start one with: pnpm udp:server (with no connection, a stopped server looks just like lost datagrams). A running server may also refuse a reply larger than the message (its --max-amplification)",
  },
  async run({ values, positionals, signal, stdin, stdout, stderr }) {
    const [hostArgument] = positionals;
    if (hostArgument !== undefined && values.host !== undefined) {
      throw new UsageError("give the host once: as HOST or as --host");
    }
    const { message, count } = values;
    const print = createPrinter(stdout, values.json);
    // At a terminal, with no --message or --count: a prompt, and each line typed is a message.
    const interactive = stdin.isTTY === true && message === undefined && count === undefined;
    const messages = interactive
      ? typedLines(stdin, stdout)
      : clientMessages({ message, count, stdin, fallback: UDP_ECHO_MESSAGE });
    const { loss, duplicate, reorder, seed } = values;
    const netsim = { loss, duplicate, reorder, seed };
    const lossy = Object.values(netsim).some((value) => value !== undefined);
    if (values.reliable) {
      if (lossy) {
        throw new UsageError(
          "--loss, --duplicate, --reorder and --seed put netsim under plain datagrams; for --reliable over a lossy link see pnpm demo",
        );
      }
      if (values.timeout !== undefined || values.retries !== undefined) {
        throw new UsageError(
          "--timeout and --retries are for plain datagrams: with --reliable the sliding window retransmits by itself",
        );
      }
      try {
        const summary = await runReliableClient({
          host: hostArgument === undefined ? values.host : parseHostFlag("host", hostArgument),
          port: values.port,
          messages,
          trace: traceFlag(values.trace, stderr, { role: "client", name: "udp-echo-client" }),
          onSegment: values.trace ? (line) => stderr.write(`${line}\n`) : undefined,
          signal,
          onReply: (seq, reply) => {
            // Escaped, as for plain datagrams: the server's text must not act on the terminal.
            const shown = escapeText(reply);
            if (count === undefined) print(shown, { event: "reply", seq, reply: shown });
          },
        });
        if (count !== undefined) {
          const { messages, retransmissions } = summary;
          const elapsedMs = Math.round(summary.elapsedMs * 10) / 10;
          print(
            `sent ${counted(messages, "message")} over one reliable connection, got every reply in ${elapsedMs.toFixed(1)} ms (${counted(retransmissions, "retransmission")})`,
            { event: "summary", messages, replies: messages, retransmissions, elapsedMs },
          );
        }
      } finally {
        stdin.destroy();
      }
      return;
    }
    const host = hostArgument === undefined ? values.host : parseHostFlag("host", hostArgument);
    const port = values.port;
    // With --loss & co. the client talks to netsim's link, and the link to the server.
    const target = formatAddress({
      transport: "udp",
      host: host ?? DEFAULT_HOST,
      port: port ?? UDP_ECHO_PORT,
    });
    const story = lossy ? await startLossyStory(target, netsim, print) : undefined;
    const trace = traceFlag(values.trace, stderr, { role: "client", name: "udp-echo-client" });
    try {
      const summary = await runClient({
        host: story?.endpoint.host ?? host,
        port: story?.endpoint.port ?? port,
        replyTimeoutMs: values.timeout,
        retries: values.retries,
        messages,
        expectEcho: values["expect-echo"],
        trace:
          story === undefined
            ? trace
            : (event) => {
                if (event.type === "send") story.onSend();
                trace?.(event);
              },
        onEvent: story?.onEvent,
        signal,
        // With --count only the summary is printed; otherwise each reply, as it comes, escaped
        // (\x1b, \u202e): the server's text must not act on the terminal.
        onReply: ({ seq, message, reply, tries }) => {
          if (story !== undefined) story.onReply({ seq, message, reply, tries }, escapeText(reply));
          else if (count === undefined) {
            const shown = escapeText(reply);
            const data = { event: "reply", seq, message: escapeText(message), reply: shown, tries };
            print(shown, data);
          }
        },
      });
      if (count !== undefined) {
        // Through the link, the address that answered is the link's: name the server instead.
        const server =
          story === undefined ? formatEndpoint(summary.server) : `udp://${target} via netsim`;
        const { messages, retries, late, garbage } = summary;
        const elapsedMs = Math.round(summary.elapsedMs * 10) / 10;
        const ignored = garbage > 0 ? `, ${counted(garbage, "garbage datagram")} ignored` : "";
        print(
          `sent ${counted(messages, "message")} to ${server}, got every reply in ${elapsedMs.toFixed(1)} ms (${counted(retries, "retry", "retries")}${ignored})`,
          {
            event: "summary",
            server,
            messages,
            replies: messages,
            retries,
            late,
            garbage,
            elapsedMs,
          },
        );
      }
    } finally {
      await story?.close();
      // Stop reading a pipe that may stay open (we gave up before it ended).
      stdin.destroy();
    }
  },
});
