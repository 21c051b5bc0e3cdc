#!/usr/bin/env node
/**
 * `tcp-echo-client`: flags in, replies out. The socket story is in client.ts.
 *
 * Run it in two terminals:
 *   pnpm tcp:server                          # terminal 1
 *   pnpm tcp:client                          # terminal 2: type a line, see its reply
 *   printf 'one\ntwo\n' | pnpm tcp:client    # one message per line: one, two
 */

import { readFile } from "node:fs/promises";
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
  parseSecondsFlag,
  portFlag,
  runCommand,
  TRACE_FLAG,
  traceFlag,
  UsageError,
} from "@socket-lab/cli";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HOST,
  explain,
  formatEndpoint,
  type TraceListener,
} from "@socket-lab/core";
import { DEFAULT_SEED } from "@socket-lab/netsim";
import type { TlsConnectOptions } from "@socket-lab/tcp";
import pkg from "../package.json" with { type: "json" };
import { runClient, TCP_ECHO_MESSAGE, TCP_ECHO_WINDOW } from "./client.js";
import { FRAMING_FLAG } from "./internal/flags.js";
import {
  formatRead,
  RECHUNK_MAX_BYTES,
  RECHUNK_MIN_BYTES,
  type Rechunk,
  startRechunk,
} from "./internal/rechunk.js";
import { promptedLines } from "./prompt.js";
import { TCP_ECHO_PORT } from "./server-options.js";

process.exitCode = await runCommand({
  name: "tcp-echo-client",
  version: pkg.version,
  description: "send messages to a TCP echo server and print its replies, in order",
  usage:
    "[HOST] [options]   (messages: --message, --count, one per line of piped stdin, or typed at a prompt)",
  maxPositionals: 1,
  flags: {
    host: HOST_FLAG,
    port: portFlag(TCP_ECHO_PORT),
    unix: {
      type: "string",
      valueName: "PATH",
      description: "connect to the server's unix domain socket file (AF_UNIX) instead of host:port",
    },
    message: {
      type: "string",
      short: "m",
      valueName: "TEXT",
      description:
        "send TEXT (without it: one message per line of piped stdin, or typed at a prompt on a terminal)",
      // undefined when absent: then the messages come from stdin, a prompt, or --count.
      defaultText: TCP_ECHO_MESSAGE,
      parse: parseLineFlag,
    },
    count: {
      type: "string",
      short: "n",
      valueName: "N",
      description: "send N numbered messages ('Hello from client 1', …) and print a summary",
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 1_000_000 }),
    },
    framing: FRAMING_FLAG,
    timeout: {
      type: "string",
      valueName: "SECONDS",
      description:
        "give up when the connection, or then a reply while messages wait for one, takes this long",
      parse: (flag, value) => parseSecondsFlag(flag, value, { min: 0.001, max: 3_600 }),
      default: DEFAULT_CONNECT_TIMEOUT_MS,
      defaultText: String(DEFAULT_CONNECT_TIMEOUT_MS / 1000),
    },
    window: {
      type: "string",
      valueName: "N",
      description:
        "send at most N messages ahead of their replies; more input is read as replies come",
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1, max: 1_000_000 }),
      default: TCP_ECHO_WINDOW,
    },
    tls: { type: "boolean", description: "speak TLS (tls://); the server needs --tls too" },
    ca: {
      type: "string",
      valueName: "FILE",
      description:
        "with --tls: trust the certificate(s) in FILE (PEM), e.g. the server's --save-cert",
      defaultText: "the system's CAs",
    },
    servername: {
      type: "string",
      valueName: "NAME",
      description: "with --tls: the name the server's certificate must carry",
      defaultText: "HOST when it is a name",
    },
    insecure: {
      type: "boolean",
      description: "with --tls: do NOT check the server's certificate (a throwaway test only)",
    },
    rechunk: {
      type: "boolean",
      description: `run a re-chunking relay (netsim) in between that cuts the stream into random ${RECHUNK_MIN_BYTES}–${RECHUNK_MAX_BYTES} byte pieces; print the reads (recv) before each reply`,
    },
    seed: {
      type: "string",
      valueName: "N",
      description: "with --rechunk: the seed of the piece sizes, so a run repeats",
      // undefined when absent, so that --seed without --rechunk is an error; then DEFAULT_SEED.
      defaultText: String(DEFAULT_SEED),
      parse: (flag, value) => parseIntegerFlag(flag, value, { max: 2 ** 32 - 1 }),
    },
    trace: TRACE_FLAG,
    json: JSON_FLAG,
  },
  examples: [
    "tcp-echo-client",
    "tcp-echo-client localhost --tls --ca /tmp/echo.pem",
    "tcp-echo-client localhost --port 7000 --message 'Hi there'",
    "tcp-echo-client --unix /tmp/echo.sock",
    "printf 'one\\ntwo\\n' | tcp-echo-client",
    "tcp-echo-client --count 1000 --json",
    "tcp-echo-client --rechunk --seed 7",
  ],
  hints: {
    ERR_TIMEOUT:
      "The server did not answer in time: check that it is an echo server, or allow longer with --timeout SECONDS",
  },
  async run({ values, positionals, signal, stdin, stdout, stderr }) {
    const [hostArgument] = positionals;
    if (hostArgument !== undefined && values.host !== undefined) {
      throw new UsageError("give the host once: as HOST or as --host");
    }
    const host = hostArgument === undefined ? values.host : parseHostFlag("host", hostArgument);
    const port = values.port;
    if (port === 0) {
      throw new UsageError(
        "--port: 0 lets a server choose a free port; connect to the port it printed (listening on tcp://127.0.0.1:PORT)",
      );
    }
    const { unix } = values;
    if (unix !== undefined && (host !== undefined || port !== undefined || values.tls)) {
      throw new UsageError(
        "--unix PATH replaces HOST, --host, --port and --tls: give one or the other",
      );
    }
    const { message, count, framing } = values;
    const print = createPrinter(stdout, values.json);
    const tls = await tlsOptionsOf(values, stderr);
    // On a terminal, with nothing to send given: a prompt, like the tutorial's client.
    const typed =
      stdin.isTTY === true && message === undefined && count === undefined
        ? promptedLines(stdin, stdout)
        : undefined;
    const trace = traceFlag(values.trace, stderr, { role: "client", name: "tcp-echo-client" });
    if (values.rechunk && unix !== undefined) {
      throw new UsageError("--rechunk and --unix: give one of them");
    }
    const rechunk = await rechunkOf(values, { host, port, tls, trace });
    try {
      const summary = await runClient({
        host: rechunk === undefined ? host : rechunk.endpoint.host,
        port: rechunk === undefined ? port : rechunk.endpoint.port,
        unix,
        framing,
        timeoutMs: values.timeout,
        window: values.window,
        messages:
          typed?.messages ?? clientMessages({ message, count, stdin, fallback: TCP_ECHO_MESSAGE }),
        trace: rechunk?.trace ?? trace,
        tls,
        signal,
        // With --count only the summary is printed; otherwise each reply, as it comes, escaped
        // (\x1b, \u202e): the server's text must not act on the terminal.
        onReply: ({ seq, message, reply }) => {
          if (count === undefined) {
            for (const read of rechunk?.takeReads() ?? []) {
              print(formatRead(read), { event: "recv", seq, bytes: read.bytes });
            }
            const shown = escapeText(reply);
            print(shown, { event: "reply", seq, message: escapeText(message), reply: shown });
          }
          typed?.replied();
        },
      });
      if (count !== undefined) {
        const server = formatEndpoint(summary.server);
        const { messages } = summary;
        const elapsedMs = Math.round(summary.elapsedMs * 10) / 10;
        print(
          `sent ${counted(messages, "message")} to ${server}, got every reply in ${elapsedMs.toFixed(1)} ms`,
          { event: "summary", server, messages, replies: messages, elapsedMs },
        );
      }
    } catch (error) {
      throw withStartHint(error, { host, port, unix, framing, tls: values.tls });
    } finally {
      // Stop reading a pipe that may stay open (the server hung up before it ended).
      stdin.destroy();
      await rechunk?.close();
    }
  },
});

/**
 * Nobody listens where the client looked: the hint gives the server command that would have
 * worked, with the same --host, --port, --unix, --framing and --tls.
 */
function withStartHint(
  error: unknown,
  where: { host?: string; port?: number; unix?: string; framing?: string; tls: boolean },
): unknown {
  const explained = explain(error);
  const nobody =
    explained.code === "ECONNREFUSED" || (explained.code === "ENOENT" && where.unix !== undefined);
  if (!nobody) return error;
  const { host, port, unix, framing, tls } = where;
  const flags = [
    ...(unix === undefined ? [] : ["--unix", shellWord(unix)]),
    ...(host === undefined ? [] : ["--host", shellWord(host)]),
    ...(port === undefined ? [] : ["--port", String(port)]),
    ...(framing === undefined ? [] : ["--framing", framing]),
    ...(tls ? ["--tls"] : []),
  ];
  return explain(explained, { hint: `Start one with: ${["pnpm tcp:server", ...flags].join(" ")}` });
}

/** A word as a shell reads it: quoted when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** `--rechunk` (and `--seed`): the relay inside the client, started; none without --rechunk. */
async function rechunkOf(
  values: { rechunk: boolean; seed: number | undefined },
  server: {
    host: string | undefined;
    port: number | undefined;
    tls: TlsConnectOptions | undefined;
    trace: TraceListener | undefined;
  },
): Promise<Rechunk | undefined> {
  if (!values.rechunk) {
    if (values.seed !== undefined) throw new UsageError("--seed needs --rechunk");
    return undefined;
  }
  if (server.tls !== undefined) throw new UsageError("--rechunk and --tls: give one of them");
  return startRechunk(
    { transport: "tcp", host: server.host ?? DEFAULT_HOST, port: server.port ?? TCP_ECHO_PORT },
    values.seed ?? DEFAULT_SEED,
    server.trace,
  );
}

/** `--tls`, `--ca`, `--servername`, `--insecure` as connect()'s TLS options; none without --tls. */
async function tlsOptionsOf(
  values: { tls: boolean; ca?: string; servername?: string; insecure: boolean },
  stderr: NodeJS.WritableStream,
): Promise<TlsConnectOptions | undefined> {
  const { tls, ca, servername, insecure } = values;
  if (!tls) {
    if (ca !== undefined || servername !== undefined || insecure) {
      throw new UsageError("--ca, --servername and --insecure need --tls");
    }
    return undefined;
  }
  if (insecure) {
    if (ca !== undefined)
      throw new UsageError("--insecure checks nothing: give --ca or --insecure");
    stderr.write(
      "tcp-echo-client: WARNING: --insecure: the server's certificate is NOT checked; anyone on the path could read and change this connection\n",
    );
  }
  const pem =
    ca === undefined
      ? undefined
      : await readFile(ca, "utf8").catch((error: Error) => {
          throw new UsageError(`--ca: cannot read ${ca}: ${error.message}`);
        });
  return {
    ...(pem === undefined ? {} : { ca: pem }),
    ...(servername === undefined ? {} : { servername }),
    insecure,
  };
}
