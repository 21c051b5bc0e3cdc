#!/usr/bin/env node
/**
 * `tcp-echo-server`: flags in, printed events out. The socket story is in server.ts.
 *
 * Run it in two terminals:
 *   pnpm tcp:server      # terminal 1: listening on tcp://127.0.0.1:7000
 *   pnpm tcp:client      # terminal 2: Hello from client
 */

import { once } from "node:events";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  formatAddress,
  formatEndpoint,
  TUTORIAL_BACKLOG,
} from "@socket-lab/core";
import {
  counted,
  createPrinter,
  formatFailure,
  HOST_FLAG,
  ifGiven,
  JSON_FLAG,
  parseChoiceFlag,
  parseHostFlag,
  parseIntegerFlag,
  parseLineFlag,
  parsePortFlag,
  parseSecondsFlag,
  portFlag,
  printable,
  runCommand,
  TRACE_FLAG,
  traceFlag,
} from "@socket-lab/core/cli";
import pkg from "../package.json" with { type: "json" };
import { FRAMING_FLAG, FRAMINGS } from "./_flags.js";
import { DEFAULT_PORT, type EchoServerEvent, startServer } from "./server.js";

const NAME = "tcp-echo-server";

process.exitCode = await runCommand({
  name: NAME,
  version: pkg.version,
  description: "a TCP server that answers every line of every client (echo, or a fixed reply)",
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
    framing: FRAMING_FLAG,
    backlog: {
      type: "string",
      valueName: "N",
      description: "connections the kernel queues until accept() takes them, as in listen(fd, 5)",
      defaultText: String(TUTORIAL_BACKLOG),
    },
    "max-connections": {
      type: "string",
      valueName: "N",
      description: "clients served at once; one more is closed at once",
      defaultText: String(DEFAULT_MAX_CONNECTIONS),
    },
    "idle-timeout": {
      type: "string",
      valueName: "SECONDS",
      description: "close a client that says nothing for this long (decimals allowed; 0 = never)",
      defaultText: String(DEFAULT_IDLE_TIMEOUT_MS / 1000),
    },
    trace: TRACE_FLAG,
    json: JSON_FLAG,
  },
  examples: [
    "tcp-echo-server",
    "tcp-echo-server --port 0 --reply 'Hello from server'",
    "tcp-echo-server --trace --backlog 5 --max-connections 10",
  ],
  hints: {
    EADDRINUSE:
      "Another program (perhaps an earlier tcp-echo-server) holds that port: stop it, or choose another with --port (--port 0 picks a free one).",
  },
  async run({ values, signal, stdout, stderr }) {
    const print = createPrinter(stdout, values.json);
    const server = await startServer({
      host: ifGiven(values.host, (v) => parseHostFlag("host", v)),
      port: ifGiven(values.port, (v) => parsePortFlag("port", v)),
      reply: ifGiven(values.reply, (v) => parseLineFlag("reply", v)),
      framing: ifGiven(values.framing, (v) => parseChoiceFlag("framing", v, FRAMINGS)),
      backlog: ifGiven(values.backlog, (v) =>
        parseIntegerFlag("backlog", v, { min: 1, max: 65_535 }),
      ),
      maxConnections: ifGiven(values["max-connections"], (v) =>
        parseIntegerFlag("max-connections", v, { min: 1, max: 1_000_000 }),
      ),
      idleTimeoutMs: ifGiven(values["idle-timeout"], (v) =>
        parseSecondsFlag("idle-timeout", v, { min: 0, max: 86_400 }),
      ),
      trace: traceFlag(values.trace, stderr, { role: "server", name: NAME }),
      onEvent: (event) => {
        if (event.type === "server-error") stderr.write(`${formatFailure(NAME, event.error)}\n`);
        else print(...describe(event));
      },
    });
    const endpoint = formatEndpoint(server.endpoint);
    print(`listening on ${endpoint}`, { event: "listening", endpoint });

    // Serve until Ctrl-C (SIGINT) or SIGTERM, then stop gracefully and count.
    if (!signal.aborted) await once(signal, "abort");
    const { connections, rejected, messages } = await server.close();
    const refused = rejected > 0 ? ` (${rejected} rejected)` : "";
    print(
      `stopped: ${counted(connections, "connection")}${refused}, ${counted(messages, "message")}`,
      { event: "stopped", connections, rejected, messages },
    );
  },
});

/** One event as a line of text and as a JSON record. */
function describe(
  event: Exclude<EchoServerEvent, { type: "server-error" }>,
): [string, Record<string, unknown>] {
  switch (event.type) {
    case "connect": {
      const remote = formatAddress(event.remote);
      return [`${remote} connected`, { event: "connect", remote }];
    }
    case "message": {
      const from = formatAddress(event.from);
      const { text, reply } = event;
      return [`${from}: ${printable(text)}`, { event: "message", from, text, reply }];
    }
    case "disconnect": {
      const remote = formatAddress(event.remote);
      const { messages } = event;
      return [
        `${remote} disconnected after ${counted(messages, "message")}`,
        { event: "disconnect", remote, messages },
      ];
    }
    case "reject": {
      const remote = formatAddress(event.remote);
      return [
        `${remote} rejected: ${counted(event.maxConnections, "client")} already connected (--max-connections)`,
        { event: "reject", remote, maxConnections: event.maxConnections },
      ];
    }
    case "error": {
      const remote = formatAddress(event.remote);
      const { code, message } = event.error;
      return [`${remote}: ${message}`, { event: "error", remote, code, message }];
    }
  }
}
