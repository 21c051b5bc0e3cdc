/**
 * Flags and helpers the client/server apps share, so that tcp-echo and udp-echo read the same
 * and differ only where streams and datagrams do: `--host`, `--port`, `--trace`, `--json`,
 * durations in seconds, one-line texts, messages from piped stdin, and output that is either
 * text for people or one JSON object per line for machines.
 */

import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { type FlagSpec, parseNumberFlag, UsageError } from "./cli.js";
import { DEFAULT_HOST } from "./endpoint.js";
import { preview } from "./peer-text.js";
import { type MermaidTraceOptions, mermaidTraceTo, type TraceListener, traceTo } from "./trace.js";

/** `--host HOST`: where a server binds or a client sends; loopback unless asked. */
export const HOST_FLAG = {
  type: "string",
  valueName: "HOST",
  description: "the address a server binds, or a client talks to: a host name or an IP",
  defaultText: DEFAULT_HOST,
} as const satisfies FlagSpec;

/**
 * `--port N` (`-p N`) with the app's default port.
 * @example
 * portFlag(7000).defaultText //=> "7000"
 */
export function portFlag(defaultPort: number) {
  return {
    type: "string",
    short: "p",
    valueName: "N",
    description: "port, 0–65535; 0 lets the system choose a free one for a server",
    defaultText: String(defaultPort),
  } as const satisfies FlagSpec;
}

/** `--trace`: the socket story on stderr, as lines or (`--trace=mermaid`) a sequence diagram. */
export const TRACE_FLAG = {
  type: "boolean",
  words: ["text", "mermaid"],
  description:
    "print each socket call to stderr as strace names it (socket, bind, listen, accept, connect, send, recv, shutdown, close, with the fds); =mermaid: as a mermaid sequence diagram",
} as const satisfies FlagSpec;

/** `--json`: data as one JSON object per line. */
export const JSON_FLAG = {
  type: "boolean",
  description: "print data as JSON, one object per line",
} as const satisfies FlagSpec;

/**
 * `{ ...defaults, ...options }`, except that an option given as `undefined` keeps its default, so
 * a command can pass its optional flags on as they are.
 * @example
 * withDefaults({ port: 7000 }, { port: undefined }) //=> { port: 7000 }
 */
export function withDefaults<D extends object, O extends object>(
  defaults: D,
  options: O,
): D & Omit<O, keyof D> {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as D & Omit<O, keyof D>;
}

/**
 * Parses a flag only when it was given, so that an absent flag stays `undefined` and the
 * program's own default applies.
 * @example
 * ifGiven("7000", (value) => parsePortFlag("port", value))   //=> 7000
 * ifGiven(undefined, (value) => parsePortFlag("port", value)) //=> undefined
 */
export function ifGiven<T>(value: string | undefined, parse: (value: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

/**
 * Parses a flag that takes one of a few words.
 * @throws {UsageError} naming the flag and the choices, e.g. `--framing: 'json' is not one of lines, length`.
 */
export function parseChoiceFlag<const C extends string>(
  flag: string,
  value: string,
  choices: readonly C[],
): C {
  const choice = choices.find((c) => c === value);
  if (choice === undefined) {
    throw new UsageError(`--${flag}: '${value}' is not one of ${choices.join(", ")}`);
  }
  return choice;
}

/**
 * Parses a duration flag given in seconds (decimals allowed) and returns whole milliseconds.
 * A duration above 0 is at least 1 ms, so it never rounds to 0, which options read as "off".
 * @throws {UsageError} naming the flag, e.g. `--timeout: 'soon' is not a number`.
 * @example
 * parseSecondsFlag("timeout", "0.25", { min: 0.001, max: 3600 }) //=> 250
 */
export function parseSecondsFlag(
  flag: string,
  value: string,
  range: { min: number; max: number },
): number {
  const seconds = parseNumberFlag(flag, value, range);
  return seconds > 0 ? Math.max(1, Math.round(seconds * 1000)) : 0;
}

/**
 * Checks a text flag that is sent as one message: a line, so it must not contain a line break.
 * @throws {UsageError} naming the flag.
 */
export function parseLineFlag(flag: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new UsageError(`--${flag}: must be one line (no line breaks)`);
  return value;
}

/**
 * The messages a client sends: one per line of piped stdin; or `fallback` alone when stdin is a
 * terminal, or when it is closed or empty — a program started with no stdin at all (stdio
 * 'ignore', `< /dev/null`, many CI runners) sends the default message instead of waiting.
 * Lines lose their `\n` or `\r\n`. Lines are read as they are needed, so a long input is never
 * held in memory whole.
 *
 * @example
 * import { Readable } from "node:stream";
 * const stdin = Readable.from(["one\r\n", "two\n"]); // in a client: process.stdin
 * for await (const line of pipedLinesOr(stdin, "Hello from client")) console.log(line);
 * //=> one
 * //=> two
 * for await (const line of pipedLinesOr(Readable.from([]), "Hello from client")) console.log(line);
 * //=> Hello from client
 */
export async function* pipedLinesOr(
  stdin: Readable & { isTTY?: boolean },
  fallback: string,
): AsyncGenerator<string> {
  if (stdin.isTTY === true) {
    yield fallback;
    return;
  }
  let any = false;
  const lines = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      any = true;
      yield line;
    }
  } finally {
    lines.close();
  }
  if (!any) yield fallback;
}

/** What decides the messages a client sends; see {@link clientMessages}. */
export interface ClientMessagesOptions {
  /** `--message TEXT`. */
  message?: string | undefined;
  /** `--count N`. */
  count?: number | undefined;
  /** Where piped messages come from. */
  stdin: Readable & { isTTY?: boolean };
  /** The message to send when nothing else says what to send, e.g. "Hello from client". */
  fallback: string;
}

/**
 * The messages a client sends, by the rule every socket-lab client follows: with `--count N`,
 * N numbered messages (`Hello from client 1`, …); with `--message TEXT`, that one message;
 * otherwise one per line of piped stdin, or `fallback` alone (see {@link pipedLinesOr}).
 * @example
 * [...clientMessages({ count: 2, stdin: process.stdin, fallback: "hi" })] //=> ["hi 1", "hi 2"]
 */
export function clientMessages(
  options: ClientMessagesOptions,
): Iterable<string> | AsyncIterable<string> {
  const { message, count, stdin, fallback } = options;
  if (count !== undefined) return numbered(message ?? fallback, count);
  if (message !== undefined) return [message];
  return pipedLinesOr(stdin, fallback);
}

function* numbered(text: string, count: number): Generator<string> {
  for (let n = 1; n <= count; n += 1) yield `${text} ${n}`;
}

/** Prints one record either as text for people or as one JSON object per line. */
export type Printer = (text: string, data: Readonly<Record<string, unknown>>) => void;

/**
 * A {@link Printer} writing to `stdout`: `text` normally, `JSON.stringify(data)` with `--json`.
 * @example
 * const print = createPrinter(process.stdout, false);
 * print("stopped: 1 connection", { event: "stopped", connections: 1 }); // prints the text
 */
export function createPrinter(stdout: Writable, json: boolean): Printer {
  return (text, data) => {
    stdout.write(`${json ? JSON.stringify(data) : text}\n`);
  };
}

/**
 * The trace listener for `--trace`: each socket call as one line on `stderr`; with
 * `--trace=mermaid`, a mermaid sequence diagram on `stderr` in which this program is `who`;
 * none without the flag.
 * @example
 * const who = { role: "server", name: "tcp-echo-server" } as const;
 * traceFlag(false, process.stderr, who) //=> undefined
 * const trace = traceFlag(true, process.stderr, who); // an app: traceFlag(values.trace, …)
 * trace?.({ type: "listen", backlog: 5, fd: 3 }); // "listen(3, 5)" on stderr
 * // then: await listen(endpoint, { trace });
 */
export function traceFlag(
  value: boolean | "text" | "mermaid",
  stderr: Writable,
  who: MermaidTraceOptions,
): TraceListener | undefined {
  const write = (line: string) => stderr.write(`${line}\n`);
  if (value === "mermaid") return mermaidTraceTo(write, who);
  return value === false ? undefined : traceTo(write);
}

/**
 * Text received from the network, whole, quoted and escaped for a log line, so a peer cannot move
 * the cursor, recolour the terminal or reorder the line; {@link preview} also cuts it.
 * @example
 * printable("hi\u001b[2J") //=> "\"hi\\x1b[2J\""
 */
export function printable(text: string): string {
  return preview(text, { maxChars: Number.POSITIVE_INFINITY });
}

/**
 * A count with its noun, singular or plural.
 * @example
 * counted(1, "message")          //=> "1 message"
 * counted(3, "message")          //=> "3 messages"
 * counted(2, "try", "tries")     //=> "2 tries"
 */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
