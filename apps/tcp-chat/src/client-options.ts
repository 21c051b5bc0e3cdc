/**
 * The options and result of the chat client, and its keyboard: a prompt that incoming lines
 * never clobber. The socket story itself is client.ts.
 */

import * as readline from "node:readline";
import type { Readable, Writable } from "node:stream";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HOST,
  type Endpoint,
  type TraceListener,
} from "@socket-lab/core";
import { checkMs, invalidArgValue, withDefaults } from "@socket-lab/core/internal";
import { CHAT_PORT, isValidNick, NICK_RULES } from "./protocol.js";

/**
 * How long the client waits, after sending /quit, for the server to close, in ms: twice the
 * server's default stall timeout, since a busy room may hold a client back (not read it) that
 * long before it reaches the /quit. Closing sooner would lose the lines still on their way.
 */
export const CHAT_QUIT_TIMEOUT_MS = 10_000;

/** Options of `runChatClient`. */
export interface ChatClientOptions {
  /** Host of the chat server. @default "127.0.0.1" */
  host?: string;
  /** Port of the chat server. @default 7002 */
  port?: number;
  /** Connect to the server's unix domain socket file instead; `host` and `port` are then not used. @default undefined (TCP) */
  unix?: string;
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
  port: CHAT_PORT,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  quitTimeoutMs: CHAT_QUIT_TIMEOUT_MS,
};

/**
 * Applies the defaults, once, and checks them.
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a bad `nick`; {RangeError} `ERR_OUT_OF_RANGE`
 *   for a bad `quitTimeoutMs`.
 */
export function chatClientSettings(options: ChatClientOptions) {
  const settings = withDefaults(DEFAULTS, options);
  if (settings.nick !== undefined && !isValidNick(settings.nick)) {
    throw invalidArgValue("nick", settings.nick, `must be ${NICK_RULES}`);
  }
  checkMs("quitTimeoutMs", settings.quitTimeoutMs);
  const endpoint: Endpoint =
    settings.unix !== undefined
      ? { transport: "unix", path: settings.unix }
      : { transport: "tcp", host: settings.host, port: settings.port };
  const input = settings.input ?? process.stdin;
  return { ...settings, endpoint, input, output: settings.output ?? process.stdout };
}

const PROMPT = "> ";

/** The keyboard side of the client: lines typed (or piped), and printing around the prompt. */
export interface Keyboard {
  /** True on a terminal: a prompt is shown. */
  readonly terminal: boolean;
  /** Prints above the prompt: clear the line, print, redraw the prompt and the half-typed text. */
  printAbove(print: () => void): void;
  /** Prints one line above the prompt. */
  say(text: string): void;
  /**
   * Starts reading lines: on a terminal, with a prompt. Ctrl-C at the prompt, or `signal`
   * (SIGINT, SIGTERM), ends the input like Ctrl-D.
   */
  open(signal: AbortSignal | undefined): readline.Interface;
}

/** The keyboard over `input` and `output`; nothing is read until `open()`. */
export function createKeyboard(
  input: Readable & { isTTY?: boolean },
  output: Writable & { isTTY?: boolean },
): Keyboard {
  const terminal = input.isTTY === true && output.isTTY === true;
  /** The readline interface while it shows a prompt: on a terminal, until the input closes. */
  let prompt: readline.Interface | undefined;
  const printAbove = (print: () => void) => {
    if (prompt === undefined) return print();
    readline.clearLine(output, 0);
    readline.cursorTo(output, 0);
    print();
    prompt.prompt(true); // true: the cursor goes back where it was in the half-typed line
  };
  return {
    terminal,
    printAbove,
    say: (text) => printAbove(() => output.write(`${text}\n`)),
    open(signal) {
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
      lines.on("SIGINT", () => lines.close());
      signal?.addEventListener("abort", () => lines.close(), { once: true });
      return lines;
    },
  };
}
