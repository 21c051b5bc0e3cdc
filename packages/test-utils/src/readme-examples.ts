/**
 * Runs a README's examples as tests, the way Go runs `Example…` functions against their
 * `// Output:`: every fenced `ts` or `js` block is run, and when the paragraph after it starts
 * with "prints", what the block printed must equal the fenced block that follows (or, for a `js`
 * block followed at once by a transcript of `$ node NAME.mjs ARGS` commands, what each command
 * printed and its exit code), once ports above 1023 and times are normalised (they differ from
 * run to run).
 *
 * A `js` block runs as a user runs it: `node example.mjs` in a process of its own, next to the
 * README, so it imports the package's build (build first; turbo does). A `ts` block is imported
 * into the test process through Vite (the package's TypeScript sources), with `console.log`
 * captured; then all of them are type-checked with the package's tsconfig (strict), as Vite
 * does not check types.
 *
 * @example Fragment: a test file (it adds tests when imported)
 * // packages/tcp/test/readme.test.ts
 * import { itRunsReadmeExamples } from "@socket-lab/test-utils/readme-examples";
 * itRunsReadmeExamples(new URL("../README.md", import.meta.url));
 */

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatWithOptions } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { TYPECHECK_MS, typeScriptOf } from "./type-check.js";

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
    // The output is the fenced block after a paragraph starting with "prints", or a plain
    // fenced block right after the example that is a transcript of commands.
    const labelled = (lines[next] ?? "").startsWith("prints");
    let label = "";
    for (let at = next; labelled && (lines[at] ?? "").trim() !== ""; at++) label += ` ${lines[at]}`;
    if (labelled || lines[next] === "```") {
      if (labelled) while (next < lines.length && lines[next] !== "```") next++;
      const output: string[] = [];
      for (next += 1; next < lines.length && lines[next] !== "```"; next++) {
        output.push(lines[next] ?? "");
      }
      expected = output.join("\n");
      // "prints, in one run (the counts vary …)": run it, but there is nothing fixed to compare.
      const varies = /\bvar(y|ies)\b/.test(label);
      if (varies || (!labelled && !isTranscript(expected))) expected = undefined;
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

/**
 * The text of the one fenced block of `markdown` whose first line is `firstLine` (a shell
 * command such as `$ ss -ltn 'sport = :7000'`), for a test that runs the session itself and
 * compares what it printed with what the document shows, both through `normaliseOutput`.
 *
 * @throws {Error} when no block, or more than one, starts with that line.
 * @example
 * const doc = "Run it:\n\n```console\n$ ./server 7000\nHere is the message: hi\n```\n";
 * fencedBlock(doc, "$ ./server 7000") //=> "$ ./server 7000\nHere is the message: hi"
 */
export function fencedBlock(markdown: string, firstLine: string): string {
  const blocks = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)]
    .map((match) => match[1] ?? "")
    .filter((block) => block.split("\n")[0] === firstLine);
  if (blocks.length !== 1) {
    throw new Error(`${blocks.length} fenced blocks start with ${JSON.stringify(firstLine)}`);
  }
  return (blocks[0] ?? "").replace(/\n$/, "");
}

/** Longest a `js` example may run, in ms. */
const EXAMPLE_MS = 120_000;

/** Runs a `ts` example in this process, through Vite; returns what it logged. */
async function importExample(file: string): Promise<string> {
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
  return printed.join("\n");
}

/** Runs a `js` example as `node file.mjs`; returns its stdout (a non-zero exit throws). */
function runExample(file: string): string {
  return execFileSync(process.execPath, [file], {
    cwd: dirname(file),
    encoding: "utf8",
    timeout: EXAMPLE_MS,
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** `$ node hello.mjs --port 9; echo "exit $?"`: the arguments, and whether the exit code is shown. */
const COMMAND = /^\$ (?:sudo )?node \S+\.m?js((?: [^;\s]+)*)(; echo "exit \$\?")?$/;

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
 * Runs a `js` example once per command of a shell transcript (an output block whose lines
 * starting with `$ node NAME.mjs ARGS` are commands), and returns the transcript it makes:
 * each command, then what it wrote (stdout, then stderr), then `exit N` where the README shows it.
 */
function runTranscript(file: string, transcript: string): string {
  const out: string[] = [];
  for (const line of transcript.split("\n")) {
    const command = COMMAND.exec(line);
    if (command === null) continue;
    const args = (command[1] ?? "")
      .trim()
      .split(" ")
      .filter((arg) => arg !== "");
    const ran = spawnSync(process.execPath, [file, ...args], {
      cwd: dirname(file),
      encoding: "utf8",
      timeout: EXAMPLE_MS,
      stdio: ["ignore", "pipe", "pipe"],
    });
    out.push(line, `${ran.stdout}${ran.stderr}`.trimEnd());
    if (command[2] !== undefined) out.push(`exit ${ran.status}`);
  }
  return out.filter((part) => part !== "").join("\n");
}

function isTranscript(output: string | undefined): output is string {
  return output !== undefined && COMMAND.test(output.split("\n")[0] ?? "");
}

/**
 * Adds one test per example of the README at `readmeUrl`, each written to a file next to the
 * README (so its imports resolve as the package's own would).
 */
export function itRunsReadmeExamples(readmeUrl: URL): void {
  const readmePath = fileURLToPath(readmeUrl);
  const examples = readmeExamples(readFileSync(readmePath, "utf8"));
  const scratch = mkdtempSync(join(dirname(readmePath), ".readme-examples-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  /** The `ts` examples written, by module: their README line. */
  const written = new Map<string, number>();

  describe(`${basename(readmePath)} examples`, () => {
    it("has examples", () => {
      expect(examples.length).toBeGreaterThan(0);
    });

    it.each(examples.map((example) => [example.line, example] as const))(
      "the example at line %i runs and prints what the README shows",
      async (line, example) => {
        const file = join(scratch, `line-${line}.${example.language === "ts" ? "mts" : "mjs"}`);
        writeFileSync(file, `${example.code}\nexport {};\n`);
        if (example.language === "ts") written.set(file, line);
        const printed =
          example.language === "ts"
            ? await importExample(file)
            : isTranscript(example.expected)
              ? runTranscript(file, example.expected)
              : runExample(file);
        if (example.expected !== undefined) {
          expect(normaliseOutput(printed)).toBe(normaliseOutput(example.expected));
        }
      },
    );

    // After the examples ran: their modules are still in the scratch folder. (`js` examples
    // are for JavaScript users, and are run, not checked.)
    if (examples.some((example) => example.language === "ts")) {
      it(
        "every ts example type-checks, strict, as the package's own code does",
        () => {
          const errors = typeScriptOf(dirname(readmePath), []).check([...written.keys()]);
          expect(
            errors.map(({ module, line, text }) => {
              // Line 1 of the module is the line after the opening fence.
              return `${basename(readmePath)}:${(written.get(module) ?? 0) + 1 + line}: ${text}`;
            }),
          ).toEqual([]);
        },
        TYPECHECK_MS,
      );
    }
  });
}
