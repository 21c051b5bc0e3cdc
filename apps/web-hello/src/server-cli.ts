#!/usr/bin/env node
/**
 * `web-hello-server`: flags in, printed events out. The socket story is in server.ts.
 *
 * Run it, then open the page:
 *   pnpm web:server                     # http://127.0.0.1:8080 and https://127.0.0.1:8443
 *   curl -v http://127.0.0.1:8080/      # or open it in a browser
 */

import { once } from "node:events";
import {
  counted,
  createPrinter,
  formatFailure,
  HOST_FLAG,
  JSON_FLAG,
  parseIntegerFlag,
  parsePortFlag,
  parseSecondsFlag,
  portFlag,
  printable,
  runCommand,
  TRACE_FLAG,
  traceFlag,
} from "@socket-lab/cli";
import { DEFAULT_MAX_CONNECTIONS } from "@socket-lab/core";
import pkg from "../package.json" with { type: "json" };
import { loadCertificate } from "./certificate.js";
import { WEB_MAX_BODY_BYTES, WEB_MAX_HEAD_BYTES, WEB_MAX_HEADERS } from "./http-framing.js";
import {
  WEB_HTTP_PORT,
  WEB_HTTPS_PORT,
  WEB_KEEP_ALIVE_TIMEOUT_MS,
  WEB_REQUEST_TIMEOUT_MS,
  type WebEvent,
} from "./options.js";
import { startServer } from "./server.js";

const NAME = "web-hello-server";
const SIZE = { min: 1, max: 16 * 1024 * 1024 };

process.exitCode = await runCommand({
  name: NAME,
  version: pkg.version,
  description: "a web server written on a stream socket: one page over HTTP/1.1 and HTTPS",
  usage: "[options]",
  flags: {
    host: HOST_FLAG,
    port: portFlag(WEB_HTTP_PORT),
    "https-port": {
      type: "string",
      valueName: "N",
      description: "port for HTTPS (browsers use 443, which needs privileges); 0 picks a free one",
      parse: parsePortFlag,
      default: WEB_HTTPS_PORT,
    },
    "http-only": { type: "boolean", description: "serve plain HTTP only, no HTTPS" },
    key: {
      type: "string",
      valueName: "FILE",
      description: "HTTPS private key (PEM), with --cert",
      defaultText: "made at start",
    },
    cert: {
      type: "string",
      valueName: "FILE",
      description: "HTTPS certificate (PEM), with --key",
      defaultText: "self-signed for localhost, made at start",
    },
    "save-cert": {
      type: "string",
      valueName: "FILE",
      description: "write the certificate (PEM) to FILE, for a client to trust: curl --cacert FILE",
    },
    "max-connections": {
      type: "string",
      valueName: "N",
      description: "connections open at once per port; one more is closed at once",
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 1_000_000 }),
      default: DEFAULT_MAX_CONNECTIONS,
    },
    "max-head-bytes": {
      type: "string",
      valueName: "N",
      description: "most bytes of request line + headers (414/431 past it)",
      parse: (flag, value) => parseIntegerFlag(flag, value, SIZE),
      default: WEB_MAX_HEAD_BYTES,
    },
    "max-headers": {
      type: "string",
      valueName: "N",
      description: "most header lines per request (431 past it)",
      parse: (flag, value) => parseIntegerFlag(flag, value, SIZE),
      default: WEB_MAX_HEADERS,
    },
    "max-body-bytes": {
      type: "string",
      valueName: "N",
      description: "largest Content-Length accepted (413 past it)",
      parse: (flag, value) => parseIntegerFlag(flag, value, SIZE),
      default: WEB_MAX_BODY_BYTES,
    },
    "request-timeout": {
      type: "string",
      valueName: "SECONDS",
      description: "a request must arrive whole within this, once begun (0 = no limit)",
      parse: (flag, value) => parseSecondsFlag(flag, value, { min: 0, max: 86_400 }),
      default: WEB_REQUEST_TIMEOUT_MS,
      defaultText: String(WEB_REQUEST_TIMEOUT_MS / 1000),
    },
    "keep-alive-timeout": {
      type: "string",
      valueName: "SECONDS",
      description: "close a kept-alive connection idle this long (0 = never)",
      parse: (flag, value) => parseSecondsFlag(flag, value, { min: 0, max: 86_400 }),
      default: WEB_KEEP_ALIVE_TIMEOUT_MS,
      defaultText: String(WEB_KEEP_ALIVE_TIMEOUT_MS / 1000),
    },
    trace: TRACE_FLAG,
    json: JSON_FLAG,
  },
  examples: [
    "web-hello-server",
    "web-hello-server --port 0 --https-port 0 --save-cert /tmp/web-hello.pem",
    "web-hello-server --http-only --trace",
  ],
  hints: {
    EADDRINUSE:
      "Another program (perhaps an earlier web-hello-server) holds that port: stop it, or choose another with --port / --https-port (0 picks a free one).",
    EACCES:
      "Ports below 1024 (such as 80 and 443) need privileges: use 8080 and 8443, or see the README for how to allow 80 and 443.",
  },
  async run({ values, signal, stdout, stderr }) {
    const print = createPrinter(stdout, values.json);
    const certificate = values["http-only"]
      ? undefined
      : await loadCertificate(values.key, values.cert, values["save-cert"]);
    const server = await startServer({
      host: values.host,
      port: values.port,
      httpsPort: values["https-port"],
      certificate,
      limits: {
        maxHeadBytes: values["max-head-bytes"],
        maxHeaders: values["max-headers"],
        maxBodyBytes: values["max-body-bytes"],
      },
      requestTimeoutMs: values["request-timeout"],
      keepAliveTimeoutMs: values["keep-alive-timeout"],
      maxConnections: values["max-connections"],
      trace: traceFlag(values.trace, stderr, { role: "server", name: "web-hello-server" }),
      onEvent: (event) => print(...describe(event)),
    });
    if (certificate !== undefined) {
      const { origin, fingerprint256 } = certificate;
      const saved = values["save-cert"];
      print(
        `certificate: ${origin}; SHA-256 fingerprint ${fingerprint256}${saved === undefined ? "" : `; saved to ${saved}`}`,
        { event: "certificate", origin, fingerprint256, saved },
      );
    }

    // Serve until Ctrl-C (SIGINT) or SIGTERM, then stop gracefully.
    if (!signal.aborted) await once(signal, "abort");
    await server.close();
    print("stopped", { event: "stopped" });
  },
});

/** One event as a line of text and as a JSON record; peer text is escaped. */
function describe(event: WebEvent): [string, Record<string, unknown>] {
  switch (event.type) {
    case "listening":
      return [`listening on ${event.url}`, { event: "listening", url: event.url }];
    case "connect": {
      const fd = event.fd === undefined ? "fd not exposed by Node" : `fd ${event.fd}`;
      return [
        `${event.client} connected (${fd})`,
        { event: "connect", client: event.client, fd: event.fd },
      ];
    }
    case "request": {
      const { client, requests, status, method, target, reason } = event;
      const what =
        method === undefined
          ? `refused: ${reason}`
          : `${printable(`${method} ${target}`)} (request ${requests} on this connection)`;
      return [
        `${client} ${status} ${what}`,
        { event: "request", client, requests, status, method, target, reason },
      ];
    }
    case "error": {
      const message = formatFailure(event.client, event.error);
      return [message, { event: "error", client: event.client, message }];
    }
    case "server-error": {
      const message = formatFailure(NAME, event.error);
      return [message, { event: "server-error", message }];
    }
    case "disconnect":
      return [
        `${event.client} disconnected after ${counted(event.requests, "request")}`,
        { event: "disconnect", client: event.client, requests: event.requests },
      ];
  }
}
