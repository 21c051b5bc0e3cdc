/**
 * tcp-chat client: one connection, two directions at once.
 *
 * What it shows: a stream socket is two-way. This client reads the keyboard and sends each line
 * while, at the same time, it receives the room's lines and prints them. On a terminal, an
 * incoming line never clobbers what you are typing: the prompt is cleared, the line printed,
 * and the prompt redrawn with your half-typed text. With piped stdin it is scriptable: it sends
 * each line, prints what arrives, and when the input ends it sends /quit and waits for the
 * server to close.
 *
 * Run a server and three clients in four terminals:
 *
 *   pnpm chat:server                  # terminal 1
 *   pnpm chat:client --nick alice     # terminal 2
 *   pnpm chat:client --nick bob       # terminal 3
 *   printf 'hi all\n' | pnpm chat:client --nick carol   # terminal 4: says hi and leaves
 */

import * as readline from "node:readline";
import type { Readable, Writable } from "node:stream";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HOST,
  ErrorCode,
  isSocketError,
  type TraceListener,
} from "@socket-lab/core";
import { withDefaults } from "@socket-lab/core/cli";
import { connect } from "@socket-lab/tcp";
import { DEFAULT_CHAT_PORT, isValidNick, NICK_RULES, parseClientLine } from "./protocol.js";

/**
 * How long the client waits, after sending /quit, for the server to close, in ms: twice the
 * server's default stall timeout, since a busy room may hold a client back (not read it) that
 * long before it reaches the /quit. Closing sooner would lose the lines still on their way.
 */
export const DEFAULT_QUIT_TIMEOUT_MS = 10_000;

/** Options of {@link runChatClient}. */
export interface ChatClientOptions {
  /** Host of the chat server. @default "127.0.0.1" */
  host?: string;
  /** Port of the chat server. @default 7002 */
  port?: number;
  /** Nickname to ask for right after joining; without one the server names you `guestN`. */
  nick?: string;
  /** Where lines to send come from: a terminal (interactive) or a pipe. @default process.stdin */
  input?: Readable & { isTTY?: boolean };
  /** Where the room's lines are printed. @default process.stdout */
  output?: Writable & { isTTY?: boolean };
  /** Time to wait for the server to accept the connection, in ms. @default 10000 */
  connectTimeoutMs?: number;
  /** Time to wait, after sending /quit, for the server to close, in ms. @default 10000 */
  quitTimeoutMs?: number;
  /** Aborting it leaves the room as the end of the input does. */
  signal?: AbortSignal;
  /** Receives the socket lifecycle (connect, send, recv, close) for `--trace`. */
  trace?: TraceListener;
}

/** How a chat session ended. */
export interface ChatClientResult {
  /** `"client"` after /quit or the end of the input; `"server"` when the server closed first. */
  readonly closedBy: "client" | "server";
}

const DEFAULTS = {
  host: DEFAULT_HOST,
  port: DEFAULT_CHAT_PORT,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  quitTimeoutMs: DEFAULT_QUIT_TIMEOUT_MS,
};

const PROMPT = "> ";

/**
 * Joins a chat server and relays lines between it and `input`/`output` until one side leaves.
 *
 * @throws {RangeError} for a bad `nick` or `quitTimeoutMs`, naming it and its value.
 * @throws {SocketError} when the server cannot be reached (`ECONNREFUSED`, `ERR_TIMEOUT`, …) or
 *   the connection is reset.
 * @example
 * const { closedBy } = await runChatClient({ port: 7002, nick: "alice" });
 * if (closedBy === "server") console.error("the server closed the connection");
 */
export async function runChatClient(options: ChatClientOptions = {}): Promise<ChatClientResult> {
  const settings = withDefaults(DEFAULTS, options);
  if (settings.nick !== undefined && !isValidNick(settings.nick)) {
    throw new RangeError(`nick must be ${NICK_RULES}, got '${settings.nick}'`);
  }
  if (!Number.isInteger(settings.quitTimeoutMs) || settings.quitTimeoutMs < 0) {
    throw new RangeError(
      `quitTimeoutMs must be a whole number of ms from 0, got ${settings.quitTimeoutMs}`,
    );
  }
  const input = settings.input ?? process.stdin;
  const output = settings.output ?? process.stdout;
  const terminal = input.isTTY === true && output.isTTY === true;

  /** The readline interface while it shows a prompt: on a terminal, until the input closes. */
  let prompt: readline.Interface | undefined;
  /** Prints above the prompt: clear the line, print, redraw the prompt and the half-typed text. */
  const printAbovePrompt = (print: () => void) => {
    if (prompt === undefined) return print();
    readline.clearLine(output, 0);
    readline.cursorTo(output, 0);
    print();
    prompt.prompt(true); // true: the cursor goes back where it was in the half-typed line
  };
  const trace = settings.trace;

  // socket + connect: resolves once the server has accepted us.
  const connection = await connect<string>(
    { transport: "tcp", host: settings.host, port: settings.port },
    {
      timeoutMs: settings.connectTimeoutMs,
      signal: settings.signal,
      trace: trace && ((event) => printAbovePrompt(() => trace(event))),
    },
  );
  // Not awaited: send() only waits when the socket's buffer is full, and a failure shows up
  // in the receive loop below.
  if (settings.nick !== undefined) void connection.send(`/nick ${settings.nick}`);

  const lines = readline.createInterface({
    input,
    ...(terminal ? { output, prompt: PROMPT } : {}),
    terminal,
  });
  if (terminal) prompt = lines;
  lines.on("close", () => {
    if (prompt === undefined) return;
    prompt = undefined;
    // Wipe the prompt, so that what is printed from now on starts on a clean line.
    readline.clearLine(output, 0);
    readline.cursorTo(output, 0);
  });
  // Ctrl-C at the prompt leaves the room like Ctrl-D; a signal (SIGINT, SIGTERM) does the same.
  lines.on("SIGINT", () => lines.close());
  settings.signal?.addEventListener("abort", () => lines.close(), { once: true });

  // recv: print each line of the room until the server closes its side (EOF).
  let serverGone = false;
  const receiving = (async () => {
    try {
      for await (const text of connection) printAbovePrompt(() => output.write(`${text}\n`));
    } finally {
      serverGone = true;
      lines.close();
    }
  })();
  receiving.catch(() => {}); // awaited below, once the input side is done

  // send: each line typed or piped, in order; a full send buffer pauses the input.
  let quitting = false;
  const sending = async () => {
    if (terminal) lines.prompt();
    for await (const text of lines) {
      try {
        await connection.send(text);
      } catch (err) {
        // A line over the framing's limit is not sent at all; say so and go on.
        if (!isSocketError(err, ErrorCode.ERR_FRAME_TOO_LARGE)) throw err;
        printAbovePrompt(() => output.write(`! not sent: ${err.message}\n`));
      }
      if (parseClientLine(text).type === "quit") {
        quitting = true;
        return;
      }
      if (terminal) lines.prompt();
    }
    // The input ended (Ctrl-D, the end of a pipe, a signal): leave politely, unless the server
    // is the one that ended.
    if (!serverGone) {
      quitting = true;
      await connection.send("/quit");
    }
  };
  try {
    await sending();
  } catch {
    // The connection failed under a send: the receiving side reports why.
  }

  if (quitting) {
    // The server answers /quit with "* bye" and closes; give it a moment, then close(fd) anyway.
    const timer = setTimeout(() => connection.destroy(), settings.quitTimeoutMs);
    await receiving.catch(() => {});
    clearTimeout(timer);
    lines.close();
    return { closedBy: "client" };
  }
  await receiving; // rejects with the reason when the connection was reset
  return { closedBy: "server" };
}
