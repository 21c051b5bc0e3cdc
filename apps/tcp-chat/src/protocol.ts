/**
 * The chat's line protocol: what a client may send, and every line the server sends back.
 *
 * It is plain UTF-8 text, one message per line ending in "\n" ("\r\n" from telnet or `nc -C` is
 * fine too), so `nc 127.0.0.1 7002` is a complete chat client. A stream socket has no message
 * boundaries of its own: the newline is the boundary, and @socket-lab/tcp's `lines()` framing
 * finds it however the bytes were split on the way.
 *
 * Client → server
 *   /nick NAME       take a new nickname (see NICK_RULES; names clash ignoring case)
 *   /who             list the nicknames in the room
 *   /quit            leave: the server answers "* bye" and closes the connection
 *   any other text   a message for everyone else in the room (empty lines are ignored); only a
 *                    line that starts with "/" is a command, so " /quit" is a message. It is
 *                    passed on escaped: control characters, bidi overrides, U+2028 and the like
 *                    as `\x1b`, `\u202e`, …, and a run of spaces as `\x20×40`, so that no
 *                    member's terminal (nc's included) acts on them
 *
 * Server → client: the first character says what a line is.
 *   * welcome, you are guest1 (2 users online; commands: /nick NAME, /who, /quit)
 *   * alice joined
 *   <alice> hello                    a message, prefixed with the sender's nickname
 *   * alice is now bob               sent to everyone, the renamed client included
 *   * users: alice, bob              the answer to /who, sorted
 *   * alice left                     "(idle)", "(too slow)", "(connection reset)" or
 *                                    "(error)" follow when the client did not leave by itself
 *   * bye                            the answer to /quit, just before the server closes
 *   * server shutting down
 *   ! error: nickname 'bob' is taken; you are still alice
 *                                    errors go to the one client concerned, which stays
 *   ! error: server is full (100 users); try again later
 *                                    the one line a client over the limit gets before the close
 *   ! error: you read nothing for 5 s while your queue was full; disconnecting
 *                                    the last line to a client dropped for not reading
 */

import { counted, escapeText } from "@socket-lab/cli";

/** The port a chat server listens on, and a client connects to, unless told otherwise. */
export const CHAT_PORT = 7002;

/** Longest nickname, in characters. */
export const MAX_NICK_LENGTH = 16;

const NICK = new RegExp(`^[A-Za-z][A-Za-z0-9_-]{0,${MAX_NICK_LENGTH - 1}}$`);

/** The nickname rules in words, for error messages and `--help`. */
export const NICK_RULES = `1–${MAX_NICK_LENGTH} letters, digits, '_' or '-', starting with a letter`;

/** True for a nickname that follows {@link NICK_RULES}. Nicknames clash ignoring case. */
export function isValidNick(nick: string): boolean {
  return NICK.test(nick);
}

/** Why a client left the room; shown to the others after its nickname unless it left by itself. */
export type LeaveReason = "quit" | "closed" | "idle" | "slow" | "reset" | "error";

const LEAVE_SUFFIX: Record<LeaveReason, string> = {
  quit: "",
  closed: "",
  idle: " (idle)",
  slow: " (too slow)",
  reset: " (connection reset)",
  error: " (error)",
};

const COMMANDS = "/nick NAME, /who, /quit";

/** The lines the server sends, built in one place so the protocol above stays true. */
export const line = {
  welcome: (nick: string, users: number) =>
    `* welcome, you are ${nick} (${counted(users, "user")} online; commands: ${COMMANDS})`,
  joined: (nick: string) => `* ${nick} joined`,
  message: (nick: string, text: string) => `<${nick}> ${text}`,
  renamed: (from: string, to: string) => `* ${from} is now ${to}`,
  /** `* users: alice, bob`; past `maxBytes` of names it ends `, … and 98 more`. */
  users: (nicks: readonly string[], maxBytes: number) => {
    const shown: string[] = [];
    let bytes = 0;
    for (const nick of nicks) {
      bytes += nick.length + 2; // nicknames are ASCII: one byte per character
      if (bytes > maxBytes && shown.length > 0) break;
      shown.push(nick);
    }
    const more = nicks.length - shown.length;
    return `* users: ${shown.join(", ")}${more > 0 ? `, … and ${more} more` : ""}`;
  },
  left: (nick: string, reason: LeaveReason) => `* ${nick} left${LEAVE_SUFFIX[reason]}`,
  bye: () => "* bye",
  shuttingDown: () => "* server shutting down",
  error: (text: string) => `! error: ${text}`,
  full: (maxClients: number) =>
    `! error: server is full (${counted(maxClients, "user")}); try again later`,
} as const;

/** A line from a client, understood. */
export type ClientLine =
  | { readonly type: "message"; readonly text: string }
  | { readonly type: "nick"; readonly nick: string }
  | { readonly type: "who" }
  | { readonly type: "quit" }
  | { readonly type: "empty" }
  | { readonly type: "invalid"; readonly error: string };

/**
 * Reads one line a client sent.
 * @example
 * parseClientLine("/nick bob") //=> { type: "nick", nick: "bob" }
 * parseClientLine("hi there")  //=> { type: "message", text: "hi there" }
 */
export function parseClientLine(text: string): ClientLine {
  if (text.trim() === "") return { type: "empty" };
  if (!text.startsWith("/")) {
    // Escape sequences would let one member clear another's screen, write its clipboard (OSC 52)
    // or reorder its line (U+202E); padding spaces could wrap into a fake "* alice left" line.
    return { type: "message", text: escapeText(text) };
  }
  const [command = "", ...args] = text.trim().split(/\s+/);
  switch (command) {
    case "/nick": {
      const nick = args[0];
      if (nick === undefined || args.length > 1) {
        return { type: "invalid", error: "usage: /nick NAME" };
      }
      if (!isValidNick(nick)) {
        return { type: "invalid", error: `nickname must be ${NICK_RULES}` };
      }
      return { type: "nick", nick };
    }
    case "/who":
      return { type: "who" };
    case "/quit":
      return { type: "quit" };
    default:
      return {
        type: "invalid",
        error: `unknown command '${escapeText(command.slice(0, 20))}'; commands: ${COMMANDS}`,
      };
  }
}
