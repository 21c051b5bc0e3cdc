#!/usr/bin/env node

/**
 * chat-server: the command-line face of server.ts. Reads flags, starts the room, prints
 * `listening on tcp://127.0.0.1:7002` and then a log of the room, stops on Ctrl-C.
 *
 *   pnpm chat:server [--port N] [--max-clients N] [--max-line BYTES] [--idle-timeout SECONDS]
 *                    [--queue-limit BYTES] [--stall-timeout SECONDS]
 */

import {
  createServerLog,
  type FlagSpecs,
  HOST_FLAG,
  isSocketFile,
  parseIntegerFlag,
  parseSecondsFlag,
  portFlag,
  preview,
  runCommand,
  staleSocketReplaced,
  TRACE_FLAG,
  traceFlag,
  UsageError,
} from "@socket-lab/cli";
import { formatAddress, formatEndpoint } from "@socket-lab/core";
import pkg from "../package.json" with { type: "json" };
import { CHAT_PORT } from "./protocol.js";
import {
  CHAT_IDLE_TIMEOUT_MS,
  CHAT_MAX_CLIENTS,
  CHAT_MAX_LINE_BYTES,
  CHAT_QUEUE_LIMIT_BYTES,
  CHAT_STALL_TIMEOUT_MS,
  type ChatEvent,
  PREFIX_BYTES,
  startChatServer,
} from "./server.js";

const flags = {
  host: HOST_FLAG,
  port: portFlag(CHAT_PORT),
  unix: {
    type: "string",
    valueName: "PATH",
    description:
      "listen on a unix domain socket file (AF_UNIX) instead of host:port; a stale file is replaced",
  },
  "max-clients": {
    type: "string",
    valueName: "N",
    description: "most clients in the room; one more is told the room is full",
    parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 100_000 }),
    default: CHAT_MAX_CLIENTS,
  },
  "max-line": {
    type: "string",
    valueName: "BYTES",
    description: "longest line a client may send; a longer one gets an error line",
    parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 1024 * 1024 }),
    default: CHAT_MAX_LINE_BYTES,
  },
  "idle-timeout": {
    type: "string",
    valueName: "SECONDS",
    description: "disconnect a client that sends nothing for this long; 0 never",
    parse: (flag, value) => parseSecondsFlag(flag, value, { min: 0, max: 86_400 }),
    default: CHAT_IDLE_TIMEOUT_MS,
    defaultText: String(CHAT_IDLE_TIMEOUT_MS / 1000),
  },
  "queue-limit": {
    type: "string",
    valueName: "BYTES",
    description: "most bytes waiting for one client; a sender waits while its line does not fit",
    parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 1024 ** 3 }),
    default: CHAT_QUEUE_LIMIT_BYTES,
  },
  "stall-timeout": {
    type: "string",
    valueName: "SECONDS",
    description: "drop a client whose full queue takes nothing for this long",
    parse: (flag, value) => parseSecondsFlag(flag, value, { min: 0.1, max: 86_400 }),
    default: CHAT_STALL_TIMEOUT_MS,
    defaultText: String(CHAT_STALL_TIMEOUT_MS / 1000),
  },
  trace: TRACE_FLAG,
} as const satisfies FlagSpecs;

const NAME = "chat-server";

/** One log line per room event: what a person watching the server wants to see. */
function formatEvent(event: ChatEvent): string {
  switch (event.type) {
    case "join":
      return `${event.nick} joined from ${formatAddress(event.remote)}`;
    case "message":
      // The text as the room got it (escaped by the protocol), cut to a preview.
      return `<${event.nick}> ${preview(event.text, { quoted: false })}`;
    case "rename":
      return `${event.from} is now ${event.to}`;
    case "leave":
      return `${event.nick} left (${event.reason})`;
    case "refuse":
      return `refused ${formatAddress(event.remote)}: the room is full`;
  }
}

process.exitCode = await runCommand({
  name: NAME,
  version: pkg.version,
  description: "a chat room on a TCP server: every line a client sends goes to all the others",
  usage: "[options]",
  flags,
  examples: [
    "chat-server",
    "chat-server --port 0 --max-clients 3",
    "chat-server --unix /tmp/chat.sock",
    "chat-server --idle-timeout 60 --queue-limit 16384 --stall-timeout 2 --trace",
  ],
  hints: {
    EADDRINUSE:
      "Is a chat server already running? Choose another port with --port, or another path with --unix.",
  },
  async run({ values, signal, stdout, stderr }) {
    // Message lines are previews, a few per member per second; a closed stdout is not fatal.
    const log = createServerLog({ name: NAME, stdout, stderr });
    const maxLineBytes = values["max-line"];
    const queueLimitBytes = values["queue-limit"];
    // The server would throw a RangeError; a user deserves the flags' names.
    const smallest = maxLineBytes + PREFIX_BYTES;
    if (queueLimitBytes < smallest) {
      throw new UsageError(
        `--queue-limit: ${queueLimitBytes} bytes cannot hold one line of --max-line (at least ${smallest})`,
      );
    }
    const { unix } = values;
    if (unix !== undefined && (values.host !== undefined || values.port !== undefined)) {
      throw new UsageError("--unix PATH replaces --host and --port: give one or the other");
    }
    const stale = unix !== undefined && (await isSocketFile(unix));
    const chat = await startChatServer({
      unix,
      host: values.host,
      port: values.port,
      maxClients: values["max-clients"],
      maxLineBytes,
      idleTimeoutMs: values["idle-timeout"],
      queueLimitBytes,
      stallTimeoutMs: values["stall-timeout"],
      trace: traceFlag(values.trace, stderr, { role: "server", name: "chat-server" }),
      onEvent: (event) => {
        if (event.type === "message") {
          log.message(event.nick, () => [formatEvent(event), {}]);
          return;
        }
        // What was not shown of a member's messages, before its name changes or it leaves.
        if (event.type === "leave") log.flush(event.nick);
        if (event.type === "rename") log.flush(event.from);
        log.print(formatEvent(event), {});
      },
    });
    if (stale) log.print(staleSocketReplaced(unix), {});
    log.print(`listening on ${formatEndpoint(chat.endpoint)}`, {});

    // Run until Ctrl-C or SIGTERM, then say goodbye to everyone and close.
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await chat.close();
    log.flush();
    log.last("closed", {});
    return 0;
  },
});
