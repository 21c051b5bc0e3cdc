/** Output for people or for machines: text, or one JSON object per line. */

import type { Writable } from "node:stream";

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
 * A count with its noun, singular or plural.
 * @example
 * counted(1, "message")          //=> "1 message"
 * counted(3, "message")          //=> "3 messages"
 * counted(2, "try", "tries")     //=> "2 tries"
 */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
