/**
 * A server's log on stdout, built so that no peer can stall it, grow it or end it: message lines
 * are rate-limited per peer with summaries of what was not shown, at most `maxQueuedBytes` wait
 * in stdout (more is dropped and counted), a terminal or file that stops taking output never
 * blocks the event loop, and a stdout whose reader went away (EPIPE) is said once on stderr,
 * after which the server serves on without printing.
 * Message text itself is shown with {@link preview}.
 */

import { createWriteStream, fstatSync } from "node:fs";
import type { Writable } from "node:stream";
import { createLineOutput } from "./line-output.js";
import {
  createMessageLimiter,
  type MessageLimiterOptions,
  type NotShown,
} from "./message-limiter.js";

/** Options of {@link createServerLog}. */
export interface ServerLogOptions extends MessageLimiterOptions {
  /** The program's name, before the one line on stderr when stdout closes. */
  name: string;
  /** Where the log goes. */
  stdout: Writable;
  /** Where the program says, once, that stdout has closed. */
  stderr: Writable;
  /** One JSON object per line instead of text. @default false */
  json?: boolean;
  /** Bytes that may wait in stdout before lines are dropped. @default 65,536 */
  maxQueuedBytes?: number;
}

/** A line of text and its JSON record. */
export type LogRecord = readonly [text: string, data: Readonly<Record<string, unknown>>];

/** A server's log; see {@link createServerLog}. */
export interface ServerLog {
  /** Prints an event that is not a peer's message (listening, connect, …). */
  print(text: string, data: Readonly<Record<string, unknown>>): void;
  /**
   * Prints the program's last line (its count at exit, "stopped: …"), past the queue's cap if
   * need be: a terminal that stopped reading (Ctrl-S) gets it once it reads again, and the
   * program exits after it. (A second Ctrl-C exits at once.)
   */
  last(text: string, data: Readonly<Record<string, unknown>>): void;
  /**
   * Prints a line about a message from `source` (e.g. `127.0.0.1:5512`), when the rate limit
   * allows; `describe` is called only then, so a flood costs no formatting.
   */
  message(source: string, describe: () => LogRecord): void;
  /** Prints the summary of messages not shown from `source` (it left), or from all sources. */
  flush(source?: string): void;
}

/**
 * Creates a server's log.
 * @example
 * import { Writable } from "node:stream";
 * const stdout = new Writable({ write: (line, _, done) => { console.log(`${line}`.trim()); done(); } });
 * const log = createServerLog({ name: "tcp-echo-server", stdout, stderr: process.stderr, perSource: 2 });
 * for (const text of ["one", "two", "three", "four"]) {
 *   log.message("127.0.0.1:5512", () => [`127.0.0.1:5512: ${preview(text)}`, { event: "message" }]);
 * }
 * //=> 127.0.0.1:5512: "one"
 * //=> 127.0.0.1:5512: "two"
 * log.flush("127.0.0.1:5512"); // the peer left
 * //=> … 2 more messages from 127.0.0.1:5512 not shown
 */
export function createServerLog(options: ServerLogOptions): ServerLog {
  const { name, stdout, stderr, json = false, maxQueuedBytes } = options;
  // A closed stderr must not end the program either.
  if (stderr.listenerCount("error") === 0) stderr.on("error", () => {});
  const output = createLineOutput(unblocking(stdout), {
    maxQueuedBytes,
    onClose: (error) => {
      const code = (error as NodeJS.ErrnoException).code ?? error.message;
      stderr.write(`${name}: stdout closed (${code}); serving on without printing\n`);
    },
    onCatchUp: (lines) =>
      print(`… ${count(lines, "line")} not printed: stdout was too slow`, {
        event: "not-printed",
        lines,
      }),
  });
  const line = (text: string, data: Readonly<Record<string, unknown>>) =>
    `${json ? JSON.stringify(data) : text}\n`;
  const print = (text: string, data: Readonly<Record<string, unknown>>) => {
    output.write(line(text, data));
  };
  const limiter = createMessageLimiter(options, (notShown) => print(...describeNotShown(notShown)));
  return {
    print,
    last: (text, data) => {
      output.write(line(text, data), { always: true });
    },
    message(source, describe) {
      if (limiter.allow(source)) print(...describe());
    },
    flush: (source) => limiter.flush(source),
  };
}

/**
 * Node writes `process.stdout` synchronously when it is a terminal or a file: a terminal that
 * stops reading (Ctrl-S, a stalled ssh session) would block the whole server in write(2), every
 * client with it, and SIGINT too. The log goes instead through a stream on the same file
 * descriptor written from libuv's thread pool: only that thread waits, the event loop serves on,
 * and what waits is capped like a pipe's. Pipes and sockets are asynchronous already.
 */
function unblocking(stdout: Writable): Writable {
  if (stdout !== process.stdout) return stdout;
  const fd = 1;
  let stat: ReturnType<typeof fstatSync>;
  try {
    stat = fstatSync(fd);
  } catch {
    return stdout;
  }
  if (!stat.isCharacterDevice() && !stat.isFile()) return stdout;
  return createWriteStream("", { fd, autoClose: false });
}

function describeNotShown({ source, sources, messages }: NotShown): LogRecord {
  const from = source ?? (sources === undefined ? "other sources" : count(sources, "other source"));
  return [
    `… ${count(messages, "more message")} from ${from} not shown`,
    source === undefined
      ? { event: "not-shown", sources, messages }
      : { event: "not-shown", from: source, messages },
  ];
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? noun : `${noun}s`}`;
}
