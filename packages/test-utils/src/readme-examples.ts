/**
 * Runs a README's examples as tests, the way Go runs `Example…` functions against their
 * `// Output:`: every fenced `ts` or `js` block is run, and when the paragraph after it starts
 * with "prints", what the block printed with `console.log` must equal the fenced block that
 * follows, once ports above 1023 and times are normalised (they differ from run to run).
 *
 * @example
 * // packages/tcp/test/readme.test.ts
 * import { itRunsReadmeExamples } from "@socket-lab/test-utils/readme-examples";
 * itRunsReadmeExamples(new URL("../README.md", import.meta.url));
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatWithOptions } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

/** One fenced example and the output the README shows for it, if any. */
export interface ReadmeExample {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: "ts" | "js";
  readonly code: string;
  /** The fenced block after a paragraph starting with "prints", when there is one. */
  readonly expected: string | undefined;
}

const OPENING = /^```(ts|js|typescript|javascript)\s*$/;

/** The examples of a README, in order. */
export function readmeExamples(markdown: string): ReadmeExample[] {
  const lines = markdown.split("\n");
  const examples: ReadmeExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const opening = OPENING.exec(lines[i] ?? "");
    if (opening === null) continue;
    const start = i;
    const code: string[] = [];
    for (i += 1; i < lines.length && lines[i] !== "```"; i++) code.push(lines[i] ?? "");
    let next = i + 1;
    while (next < lines.length && (lines[next] ?? "").trim() === "") next++;
    let expected: string | undefined;
    if ((lines[next] ?? "").startsWith("prints")) {
      while (next < lines.length && lines[next] !== "```") next++;
      const output: string[] = [];
      for (next += 1; next < lines.length && lines[next] !== "```"; next++) {
        output.push(lines[next] ?? "");
      }
      expected = output.join("\n");
    }
    const language = opening[1]?.startsWith("t") ? "ts" : "js";
    examples.push({ line: start + 1, language, code: code.join("\n"), expected });
  }
  return examples;
}

/**
 * Replaces what differs from run to run: ports above 1023, durations, and the file descriptors
 * of trace lines (numbered in order of first appearance, so `accept(3) = 4` stays a new fd).
 */
export function normaliseOutput(text: string): string {
  return renumberDescriptors(text)
    .replace(/(:|port: )\d{4,5}\b/g, "$1PORT")
    .replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, "N $2")
    .replace(/(elapsedMs|Ms): \d+(\.\d+)?/g, "$1: N")
    .trimEnd();
}

/** The descriptors in trace lines: `socket(…) = 19`, `accept(19) = 20`, `listen(19, 5)`, …. */
const CALL_FD =
  /(socket\([^()]*\) = )(\d+)|(accept\()(\d+)(\) = )(\d+)|(\b(?:bind|listen|connect|send|sendto|recv|recvfrom|shutdown|close)\()(\d+)\b/g;

/** Each descriptor of the trace lines in `text` becomes `fd1`, `fd2`, … in order of first use. */
export function renumberDescriptors(text: string): string {
  const names = new Map<string, string>();
  const name = (fd: string) => {
    if (!names.has(fd)) names.set(fd, `fd${names.size + 1}`);
    return names.get(fd);
  };
  return text.replace(CALL_FD, (...groups: (string | undefined)[]) => {
    const [, socket, made, accept, listening, equals, accepted, call, fd] = groups;
    if (socket !== undefined) return `${socket}${name(made ?? "")}`;
    if (accept !== undefined) {
      return `${accept}${name(listening ?? "")}${equals}${name(accepted ?? "")}`;
    }
    return `${call}${name(fd ?? "")}`;
  });
}

/**
 * Adds one test per example of the README at `readmeUrl`. Each runs in this test process as a
 * module written next to the README (so its imports resolve as the package's own would), with
 * `console.log` captured.
 */
export function itRunsReadmeExamples(readmeUrl: URL): void {
  const readmePath = fileURLToPath(readmeUrl);
  const examples = readmeExamples(readFileSync(readmePath, "utf8"));
  const scratch = mkdtempSync(join(dirname(readmePath), ".readme-examples-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  describe(`${basename(readmePath)} examples`, () => {
    it("has examples", () => {
      expect(examples.length).toBeGreaterThan(0);
    });

    it.each(examples.map((example) => [example.line, example] as const))(
      "the example at line %i runs and prints what the README shows",
      async (line, example) => {
        const file = join(scratch, `line-${line}.${example.language === "ts" ? "mts" : "mjs"}`);
        writeFileSync(file, `${example.code}\nexport {};\n`);
        const printed: string[] = [];
        const log = console.log;
        console.log = (...args: unknown[]) => {
          printed.push(formatWithOptions({ colors: false }, ...args));
        };
        try {
          await import(pathToFileURL(file).href);
        } finally {
          console.log = log;
        }
        if (example.expected !== undefined) {
          expect(normaliseOutput(printed.join("\n"))).toBe(normaliseOutput(example.expected));
        }
      },
    );
  });
}
