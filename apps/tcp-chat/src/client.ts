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
 *
 * client-options.ts holds the options and the keyboard's prompt, client-cli.ts the flags.
 */

import { escapeText } from "@socket-lab/cli";
import { ErrorCode, isSocketError } from "@socket-lab/core";
import { connect } from "@socket-lab/tcp";
import {
  type ChatClientOptions,
  type ChatClientResult,
  chatClientSettings,
  createKeyboard,
} from "./client-options.js";
import { parseClientLine } from "./protocol.js";

/**
 * Joins a chat server and relays lines between it and `input`/`output` until one side leaves.
 *
 * @throws {RangeError} for a bad `nick` or `quitTimeoutMs`, naming it and its value.
 * @throws {SocketError} when the server cannot be reached (`ECONNREFUSED`, `ERR_TIMEOUT`, …) or
 *   the connection is reset.
 * @example Fragment: needs a chat server on port 7002, and reads stdin
 * const { closedBy } = await runChatClient({ port: 7002, nick: "alice" });
 * if (closedBy === "server") console.error("the server closed the connection");
 */
export async function runChatClient(options: ChatClientOptions = {}): Promise<ChatClientResult> {
  const settings = chatClientSettings(options);
  const keyboard = createKeyboard(settings.input, settings.output);
  const { trace } = settings;

  // socket + connect: resolves once the server has accepted us.
  const connection = await connect<string>(settings.endpoint, {
    connectTimeoutMs: settings.connectTimeoutMs,
    signal: settings.signal,
    trace: trace && ((event) => keyboard.printAbove(() => trace(event))),
  });
  // Not awaited: send() only waits when the socket's buffer is full, and a failure shows up
  // in the receive loop below.
  if (settings.nick !== undefined) void connection.send(`/nick ${settings.nick}`);

  // Lines typed or piped; Ctrl-C, Ctrl-D or a signal (SIGINT, SIGTERM) ends them.
  const lines = keyboard.open(settings.signal);

  // recv: print each line of the room until the server closes its side (EOF).
  let serverGone = false;
  const receiving = (async () => {
    try {
      // Escaped (\x1b, \u202e, …) in case the server did not: text, never a terminal command.
      for await (const text of connection) keyboard.say(escapeText(text));
    } finally {
      serverGone = true;
      lines.close();
    }
  })();
  receiving.catch(() => {}); // awaited below, once the input side is done

  // send: each line typed or piped, in order; a full send buffer pauses the input.
  let quitting = false;
  const sending = async () => {
    if (keyboard.terminal) lines.prompt();
    for await (const text of lines) {
      try {
        await connection.send(text);
      } catch (err) {
        // A line over the framing's limit is not sent at all; say so and go on.
        if (!isSocketError(err, ErrorCode.ERR_FRAME_TOO_LARGE)) throw err;
        keyboard.say(`! not sent: ${err.message}`);
      }
      if (parseClientLine(text).type === "quit") {
        quitting = true;
        return;
      }
      if (keyboard.terminal) lines.prompt();
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

export {
  CHAT_QUIT_TIMEOUT_MS,
  type ChatClientOptions,
  type ChatClientResult,
} from "./client-options.js";
