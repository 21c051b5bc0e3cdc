/**
 * Shared by the apps' tests: the facts a reader meets in a story file (an app's `server.ts` or
 * `client.ts`), so a test can hold it to DESIGN.md's shape — the first socket call close after
 * the header comment and the imports, and the whole file short enough to read in one go.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** DESIGN.md's targets: the first socket call within this many lines of the imports… */
export const MAX_LINES_TO_FIRST_SOCKET_CALL = 40;
/** …and the whole story file at most this many lines. */
export const MAX_STORY_FILE_LINES = 120;

/** What {@link storyFileFacts} found in a story file. */
export interface StoryFileFacts {
  /** Lines in the file (a final newline does not start another one). */
  readonly lines: number;
  /** Line number (1-based) of the last line of the header comment and the imports. */
  readonly preambleEndLine: number;
  /**
   * Where the first socket call (`listen(`, `connect(`, `bind(`, `createSocket(`) is, counted
   * in lines after the preamble: 1 when it is on the line right after the last import.
   * `undefined` when the file makes none.
   */
  readonly firstSocketCallLine: number | undefined;
}

/** A call that opens a socket, in TypeScript: `listen<string>(`, `connect(`, `socket.bind(`, … */
const SOCKET_CALL = /\b(?:listen|connect|bind|createSocket)\s*(?:<[^>]*>)?\s*\(/;

/**
 * Reads a story file and says how long it is and where its first socket call comes.
 * Comments and strings that merely name a call (`// connect: …`) do not count.
 * @example
 * import { writeFileSync } from "node:fs";
 * const path = `/tmp/story-file-example-${process.pid}.ts`; // say apps/tcp-echo/src/client.ts
 * writeFileSync(path, '// echo client\nimport { connect } from "@socket-lab/tcp";\n\nawait connect(":7000");\n');
 * storyFileFacts(path) //=> { lines: 4, preambleEndLine: 2, firstSocketCallLine: 2 }
 */
export function storyFileFacts(path: string): StoryFileFacts {
  const text = readFileSync(path, "utf8").replace(/\n$/, "");
  const lines = text.split("\n");
  let i = 0;
  // The shebang, the header comment and blank lines.
  if (lines[i]?.startsWith("#!")) i++;
  while (i < lines.length && isBlankOrComment(lines[i] ?? "")) i++;
  if (lines[i]?.trimStart().startsWith("/*")) {
    while (i < lines.length && !(lines[i] ?? "").includes("*/")) i++;
    i++;
  }
  let preambleEnd = i; // 0-based index just past the preamble
  // The imports (each possibly over several lines), and blank lines between them.
  for (let j = i; j < lines.length; j++) {
    const line = lines[j] ?? "";
    if (line.trim() === "") continue;
    if (!line.startsWith("import ")) break;
    while (j < lines.length && !/(?:from\s*)?["'][^"']+["'];?\s*$/.test(lines[j] ?? "")) j++;
    preambleEnd = j + 1;
  }
  let firstSocketCallLine: number | undefined;
  let inBlockComment = false;
  for (let j = preambleEnd; j < lines.length; j++) {
    let code = lines[j] ?? "";
    if (inBlockComment) {
      if (!code.includes("*/")) continue;
      code = code.slice(code.indexOf("*/") + 2);
      inBlockComment = false;
    }
    const open = code.indexOf("/*");
    if (open >= 0 && !code.includes("*/", open)) {
      inBlockComment = true;
      code = code.slice(0, open);
    }
    code = code
      .replace(/\/\*.*?\*\//g, "")
      .replace(/\/\/.*$/, "")
      .replace(/(["'`])(?:\\.|(?!\1).)*\1/g, '""');
    if (SOCKET_CALL.test(code)) {
      firstSocketCallLine = j + 1 - preambleEnd;
      break;
    }
  }
  return { lines: lines.length, preambleEndLine: preambleEnd, firstSocketCallLine };
}

function isBlankOrComment(line: string): boolean {
  const trimmed = line.trim();
  return trimmed === "" || trimmed.startsWith("//");
}

/**
 * Adds tests: each story file (e.g. `new URL("../src/server.ts", import.meta.url)`) makes its
 * first socket call within {@link MAX_LINES_TO_FIRST_SOCKET_CALL} lines of its header comment
 * and imports, and is at most {@link MAX_STORY_FILE_LINES} lines.
 */
export function describeStoryFiles(files: readonly URL[]): void {
  describe.each(files.map((url) => [url.pathname.split("/").slice(-2).join("/"), url] as const))(
    "%s reads as the tutorial's story",
    (_name, url) => {
      const facts = storyFileFacts(fileURLToPath(url));
      it(`makes its first socket call within ${MAX_LINES_TO_FIRST_SOCKET_CALL} lines of the header comment and imports`, () => {
        expect(facts.firstSocketCallLine).toBeDefined();
        expect(facts.firstSocketCallLine).toBeLessThanOrEqual(MAX_LINES_TO_FIRST_SOCKET_CALL);
      });
      it(`is at most ${MAX_STORY_FILE_LINES} lines`, () => {
        expect(facts.lines).toBeLessThanOrEqual(MAX_STORY_FILE_LINES);
      });
    },
  );
}
