/**
 * The client on a terminal, like the tutorial's: a prompt, the line you type is sent, its reply
 * printed, and the prompt again, until Ctrl-D. client-cli.ts uses it when stdin is a terminal
 * and no --message or --count was given; piped stdin goes on being read line by line.
 */

import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

/** What the terminal shows before each line you type. */
export const PROMPT = "> ";

/** Lines typed at a prompt, each one offered only once the reply to the last has been printed. */
export interface PromptedLines {
  /** The messages: each line typed, until Ctrl-D (or Ctrl-C). */
  readonly messages: AsyncIterable<string>;
  /** Call once the reply to the last line is printed: the prompt comes back. */
  replied(): void;
}

/** Reads lines from a terminal with a prompt; one at a time, in step with the replies. */
export function promptedLines(input: Readable, output: Writable): PromptedLines {
  let wake: (() => void) | undefined;
  const replied = () => {
    wake?.();
    wake = undefined;
  };
  async function* messages(): AsyncGenerator<string> {
    const lines = createInterface({ input, output, prompt: PROMPT, terminal: true });
    lines.on("SIGINT", () => lines.close()); // Ctrl-C at the prompt ends the input, like Ctrl-D
    try {
      lines.prompt();
      for await (const line of lines) {
        const answered = new Promise<void>((resolve) => {
          wake = resolve;
        });
        yield line;
        await answered; // the reply is printed: prompt for the next line
        lines.prompt();
      }
    } finally {
      lines.close();
    }
  }
  return { messages: messages(), replied };
}
