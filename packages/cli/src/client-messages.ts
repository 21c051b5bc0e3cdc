/**
 * The messages a client sends: given on the command line, numbered, or one per line of piped
 * stdin.
 */

import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

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
 * // A plain iterable when no stdin is read: with --count or --message
 * [...(clientMessages({ count: 2, stdin: process.stdin, fallback: "hi" }) as Iterable<string>)] //=> ["hi 1", "hi 2"]
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
