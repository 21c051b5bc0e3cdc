/**
 * Private: the client's messages when stdin is a terminal — like the tutorial's client, it
 * prompts, and each line you type is one message; Ctrl-D (end of input) or Ctrl-C ends.
 */

import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

/** The prompt before each line. */
export const PROMPT = "> ";

/**
 * The lines typed at the terminal, each after a {@link PROMPT}; blank lines are skipped. The
 * next prompt comes when the next line is asked for, i.e. once the reply has been printed.
 */
export async function* typedLines(stdin: Readable, stdout: Writable): AsyncGenerator<string> {
  const terminal = createInterface({ input: stdin, output: stdout, prompt: PROMPT });
  // Ctrl-C at the prompt ends the input, as Ctrl-D does (readline would only pause).
  terminal.on("SIGINT", () => terminal.close());
  try {
    terminal.prompt();
    for await (const line of terminal) {
      if (line.trim() !== "") yield line;
      terminal.prompt();
    }
  } finally {
    terminal.close();
  }
}
