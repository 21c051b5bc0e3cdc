import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { storyFileFacts } from "../src/story-file.js";

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "story-file-")), "story.ts");
  writeFileSync(path, text);
  return path;
}

describe("storyFileFacts", () => {
  it("counts lines after the header comment and the imports, skipping comments that name calls", () => {
    const path = file(
      [
        "#!/usr/bin/env node",
        "/**",
        " * header: listen( in a comment",
        " */",
        "",
        "import {",
        "  listen,",
        '} from "@socket-lab/tcp";',
        'import { x } from "./x.js";',
        "",
        "// listen: not yet",
        'const s = "connect(";',
        "export async function main() {",
        '  const server = await listen<string>("tcp://127.0.0.1:0");',
        "}",
        "",
      ].join("\n"),
    );
    expect(storyFileFacts(path)).toEqual({ lines: 15, preambleEndLine: 9, firstSocketCallLine: 5 });
  });

  it("says undefined when the file makes no socket call", () => {
    expect(storyFileFacts(file('import { a } from "a";\nconst b = a;\n')).firstSocketCallLine).toBe(
      undefined,
    );
  });
});
