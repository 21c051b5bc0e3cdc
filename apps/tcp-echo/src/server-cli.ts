#!/usr/bin/env node
/**
 * `tcp-echo-server`: flags in, printed events out. The socket story is in server.ts.
 *
 * Run it in two terminals:
 *   pnpm tcp:server      # terminal 1: listening on tcp://127.0.0.1:7000
 *   pnpm tcp:client      # terminal 2: type a line, see it echoed
 */

import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { readFile, writeFile } from "node:fs/promises";
import {
  counted,
  createServerLog,
  formatFailure,
  HOST_FLAG,
  isSocketFile,
  JSON_FLAG,
  parseIntegerFlag,
  parseLineFlag,
  parseSecondsFlag,
  portFlag,
  preview,
  previewOf,
  runCommand,
  staleSocketReplaced,
  TRACE_FLAG,
  traceFlag,
  UsageError,
} from "@socket-lab/cli";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_LINE_BYTES,
  explain,
  formatAddress,
  formatEndpoint,
  TUTORIAL_BACKLOG,
} from "@socket-lab/core";
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  LOCALHOST_NAMES,
  selfSignedCertificate,
} from "@socket-lab/tcp";
import pkg from "../package.json" with { type: "json" };
import { FRAMING_FLAG } from "./internal/flags.js";
import { startServer } from "./server.js";
import {
  ECHO_CLOSE_TIMEOUT_MS,
  type EchoServerEvent,
  TCP_ECHO_FRAMING,
  TCP_ECHO_PORT,
} from "./server-options.js";

const NAME = "tcp-echo-server";

process.exitCode = await runCommand({
  name: NAME,
  version: pkg.version,
  description: "a TCP server that answers every line of every client (echo, or a fixed reply)",
  usage: "[options]",
  flags: {
    host: HOST_FLAG,
    port: portFlag(TCP_ECHO_PORT),
    unix: {
      type: "string",
      valueName: "PATH",
      description:
        "listen on a unix domain socket file (AF_UNIX) instead of host:port; a stale file is replaced",
    },
    reply: {
      type: "string",
      valueName: "TEXT",
      description: "answer every message with TEXT, like the tutorial's 'Hello from server'",
      defaultText: "echo the message",
      parse: parseLineFlag, // undefined when absent: echo
    },
    framing: { ...FRAMING_FLAG, default: TCP_ECHO_FRAMING },
    backlog: {
      type: "string",
      valueName: "N",
      description: "connections the kernel queues until accept() takes them, as in listen(fd, 5)",
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 65_535 }),
      default: TUTORIAL_BACKLOG,
    },
    "max-connections": {
      type: "string",
      valueName: "N",
      description: "clients served at once; one more is closed at once",
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 1_000_000 }),
      default: DEFAULT_MAX_CONNECTIONS,
    },
    "idle-timeout": {
      type: "string",
      valueName: "SECONDS",
      description: "close a client that says nothing for this long (decimals allowed; 0 = never)",
      parse: (flag, value) => parseSecondsFlag(flag, value, { min: 0, max: 86_400 }),
      default: DEFAULT_IDLE_TIMEOUT_MS,
      defaultText: String(DEFAULT_IDLE_TIMEOUT_MS / 1000),
    },
    "max-frame": {
      type: "string",
      valueName: "BYTES",
      description: "largest message: a frame's payload (--framing length) or a line",
      // undefined when absent: each framing's own limit applies.
      defaultText: `${DEFAULT_MAX_FRAME_BYTES} for frames, ${DEFAULT_MAX_LINE_BYTES} for lines`,
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 0, max: 0xffff_ffff }),
    },
    "max-buffered": {
      type: "string",
      valueName: "BYTES",
      description:
        "bytes held for all clients together (partial messages, unsent replies); over it the client holding the most is dropped",
      parse: parseIntegerFlag,
      default: DEFAULT_MAX_BUFFERED_BYTES,
    },
    "max-per-address": {
      type: "string",
      valueName: "N",
      description: "clients served at once from one IP address; one more is closed at once",
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 1_000_000 }),
      default: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    },
    "close-timeout": {
      type: "string",
      valueName: "SECONDS",
      description:
        "on Ctrl-C, how long to let replies flush and clients hang up before cutting them off",
      parse: (flag, value) => parseSecondsFlag(flag, value, { min: 0, max: 3_600 }),
      default: ECHO_CLOSE_TIMEOUT_MS,
      defaultText: String(ECHO_CLOSE_TIMEOUT_MS / 1000),
    },
    tls: {
      type: "boolean",
      description:
        "speak TLS (tls://): with --key/--cert, or a self-signed certificate made at start",
    },
    key: { type: "string", valueName: "FILE", description: "TLS private key (PEM), with --cert" },
    cert: { type: "string", valueName: "FILE", description: "TLS certificate (PEM), with --key" },
    "save-cert": {
      type: "string",
      valueName: "FILE",
      description:
        "write the TLS certificate (PEM) to FILE, for clients: tcp-echo-client --tls --ca FILE",
    },
    trace: TRACE_FLAG,
    json: JSON_FLAG,
  },
  examples: [
    "tcp-echo-server",
    "tcp-echo-server --tls --save-cert /tmp/echo.pem",
    "tcp-echo-server --port 0 --reply 'Hello from server'",
    "tcp-echo-server --unix /tmp/echo.sock",
    "tcp-echo-server --trace --backlog 5 --max-connections 10",
  ],

  async run({ values, signal, stdout, stderr }) {
    // Message lines are previews, a few per client per second; a closed stdout is not fatal.
    const log = createServerLog({ name: NAME, stdout, stderr, json: values.json });
    const tls = await certificateOf(values);
    const { unix } = values;
    if (unix !== undefined && (values.host !== undefined || values.port !== undefined || tls)) {
      throw new UsageError("--unix PATH replaces --host, --port and --tls: give one or the other");
    }
    const stale = unix !== undefined && (await isSocketFile(unix));
    const server = await startServer({
      tls,
      unix,
      host: values.host,
      port: values.port,
      reply: values.reply,
      framing: values.framing,
      backlog: values.backlog,
      maxConnections: values["max-connections"],
      idleTimeoutMs: values["idle-timeout"],
      maxFrameBytes: values["max-frame"],
      maxBufferedBytes: values["max-buffered"],
      maxConnectionsPerAddress: values["max-per-address"],
      closeTimeoutMs: values["close-timeout"],
      trace: traceFlag(values.trace, stderr, { role: "server", name: NAME }),
      onEvent: (event) => {
        if (event.type === "server-error") stderr.write(`${formatFailure(NAME, event.error)}\n`);
        else if (event.type === "message")
          log.message(formatAddress(event.from), () => describe(event));
        else {
          // What was not shown of a client's messages, just before it leaves the log.
          if (event.type === "disconnect") log.flush(formatAddress(event.remote));
          log.print(...describe(event));
        }
      },
    }).catch((error: unknown) => {
      if (explain(error).code !== "EADDRINUSE") throw error;
      // A live server owns the socket file (a stale one would have been replaced).
      const hint =
        unix === undefined
          ? `Another program (perhaps an earlier ${NAME}) holds that port: stop it, or choose another with --port (--port 0 picks a free one).`
          : `A server is running on ${unix}: stop it, or choose another path with --unix PATH.`;
      throw explain(error, { hint });
    });
    const endpoint = formatEndpoint(server.endpoint);
    if (stale) log.print(staleSocketReplaced(unix), { event: "replaced", path: unix });
    log.print(`listening on ${endpoint}`, { event: "listening", endpoint });
    if (tls !== undefined) {
      const { origin, fingerprint256 } = tls;
      const saved = values["save-cert"];
      if (saved !== undefined) await writeFile(saved, tls.cert);
      const where = saved === undefined ? "" : `; saved to ${saved}`;
      log.print(`certificate: ${origin}; SHA-256 fingerprint ${fingerprint256}${where}`, {
        event: "certificate",
        origin,
        fingerprint256,
        saved,
      });
    }

    // Serve until Ctrl-C (SIGINT) or SIGTERM, then stop gracefully and count.
    if (!signal.aborted) await once(signal, "abort");
    const { connections, rejected, messages } = await server.close();
    const refused = rejected > 0 ? ` (${rejected} rejected)` : "";
    log.flush();
    log.last(
      `stopped: ${counted(connections, "connection")}${refused}, ${counted(messages, "message")}`,
      { event: "stopped", connections, rejected, messages },
    );
  },
});

/** The TLS certificate: read from --key/--cert, or self-signed for localhost; none without --tls. */
async function certificateOf(values: {
  tls: boolean;
  key: string | undefined;
  cert: string | undefined;
}): Promise<{ key: string; cert: string; origin: string; fingerprint256: string } | undefined> {
  const { tls, key, cert } = values;
  if (!tls) {
    if (key !== undefined || cert !== undefined)
      throw new UsageError("--key and --cert need --tls");
    return undefined;
  }
  if (key === undefined && cert === undefined) {
    const made = await selfSignedCertificate();
    return { ...made, origin: `self-signed for ${LOCALHOST_NAMES.join(", ")}` };
  }
  if (key === undefined || cert === undefined) {
    throw new UsageError("--key and --cert go together: give both files, or neither");
  }
  const read = (flag: string, path: string) =>
    readFile(path, "utf8").catch((error: Error) => {
      throw new UsageError(`--${flag}: cannot read ${path}: ${error.message}`);
    });
  const pem = await read("cert", cert);
  return {
    key: await read("key", key),
    cert: pem,
    origin: cert,
    fingerprint256: new X509Certificate(pem).fingerprint256,
  };
}

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
      // The peer's text, escaped and cut: a preview in the line, the same in the record.
      const from = formatAddress(event.from);
      const { text, bytes, moreBytes } = previewOf(event.text);
      const reply = previewOf(event.reply).text;
      const truncated = moreBytes > 0;
      return [
        `${from}: ${preview(event.text)}`,
        { event: "message", from, text, bytes, truncated, reply },
      ];
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
      const { reason, maxConnections } = event;
      const flag = reason === "max-connections" ? "--max-connections" : "--max-per-address";
      const where = reason === "max-connections" ? "" : " from its address";
      return [
        `${remote} rejected: ${counted(maxConnections, "client")} already connected${where} (${flag})`,
        { event: "reject", remote, reason, maxConnections },
      ];
    }
    case "error": {
      const remote = formatAddress(event.remote);
      const { code, message } = event.error;
      return [`${remote}: ${message}`, { event: "error", remote, code, message }];
    }
  }
}
