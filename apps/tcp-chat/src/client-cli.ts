#!/usr/bin/env node
/**
 * chat-client: the command-line face of client.ts. Joins the room on a terminal (interactive,
 * with a prompt) or with piped stdin (scriptable), and exits 1 with a clear line when the
 * server is gone.
 *
 *   pnpm chat:client [--nick NAME] [--host HOST] [--port N]
 */

import {
  type FlagSpecs,
  HOST_FLAG,
  portFlag,
  runCommand,
  TRACE_FLAG,
  traceFlag,
  UsageError,
} from "@socket-lab/cli";
import pkg from "../package.json" with { type: "json" };
import { runChatClient } from "./client.js";
import { CHAT_PORT, isValidNick, NICK_RULES } from "./protocol.js";

const NAME = "chat-client";

const flags = {
  host: HOST_FLAG,
  port: portFlag(CHAT_PORT),
  unix: {
    type: "string",
    valueName: "PATH",
    description: "connect to the server's unix domain socket file (AF_UNIX) instead of host:port",
  },
  nick: {
    type: "string",
    short: "n",
    valueName: "NAME",
    description: `nickname to take on joining (${NICK_RULES})`,
    defaultText: "guestN, given by the server",
    parse: (flag, value) => {
      if (!isValidNick(value)) {
        throw new UsageError(`--${flag}: '${value}' is not a valid nickname (${NICK_RULES})`);
      }
      return value;
    },
  },
  trace: TRACE_FLAG,
} as const satisfies FlagSpecs;

process.exitCode = await runCommand({
  name: NAME,
  version: pkg.version,
  description: "join a tcp-chat room: type lines to talk, /nick NAME, /who, /quit",
  usage: "[options]",
  flags,
  examples: [
    "chat-client --nick alice",
    "printf 'hello\\n' | chat-client --nick bot",
    "chat-client --port 7100 --trace",
    "chat-client --unix /tmp/chat.sock --nick alice",
  ],
  hints: { ECONNREFUSED: "Start one with: pnpm chat:server" },
  async run({ values, signal, stdin, stdout, stderr }) {
    const { nick } = values;
    const { unix } = values;
    if (unix !== undefined && (values.host !== undefined || values.port !== undefined)) {
      throw new UsageError("--unix PATH replaces --host and --port: give one or the other");
    }
    const { closedBy } = await runChatClient({
      unix,
      host: values.host,
      port: values.port,
      nick,
      input: stdin,
      output: stdout,
      signal,
      trace: traceFlag(values.trace, stderr, { role: "client", name: NAME }),
    });
    if (closedBy === "server") {
      stderr.write(`${NAME}: the server closed the connection\n`);
      return 1;
    }
    return 0;
  },
});
