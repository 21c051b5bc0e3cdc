/**
 * The `file:line` links of a doc: `[apps/tcp-echo/src/server.ts:38](../apps/tcp-echo/src/server.ts#L38)
 * \`listen<…>(endpoint\``, each with the code span that follows it, which names the call that
 * line must hold. A test checks that the line still holds it, so line numbers cannot drift.
 *
 * @example
 * lineLinks("[a.ts:3](../a.ts#L3) `listen(`")
 * //=> [{ text: "a.ts:3", path: "a.ts", line: 3, call: "listen(", docLine: 1 }]
 */

/** One link to a line of code. */
export interface LineLink {
  /** The link's text: `apps/tcp-echo/src/server.ts:38`. */
  readonly text: string;
  /** The file, relative to the repository root. */
  readonly path: string;
  /** 1-based line in the file. */
  readonly line: number;
  /** The code span after the link: what that line must contain. */
  readonly call: string;
  /** 1-based line of the link in the doc. */
  readonly docLine: number;
}

const LINK = /\[([^\]]+)\]\(\.\.\/([^)#\s]+)#L(\d+)\)\s*`([^`]+)`/g;

/**
 * The line links of `markdown`, a doc one folder below the repository root (its links start with
 * `../`), with the next line joined so a link and its code span may sit on two lines. A link with no code span
 * after it throws: it would name no call to check.
 */
export function lineLinks(markdown: string): LineLink[] {
  const links: LineLink[] = [];
  const rows = markdown.split("\n");
  rows.forEach((row, i) => {
    const joined = `${row} ${rows[i + 1] ?? ""}`;
    for (const match of row.matchAll(/\[[^\]]+\]\([^)]*#L\d+\)/g)) {
      LINK.lastIndex = 0;
      const found = [...joined.matchAll(LINK)].find((m) => m.index === match.index);
      if (found === undefined) {
        throw new Error(`line ${i + 1}: ${match[0]} has no \`call\` after it`);
      }
      const [, text = "", path = "", line = "0", call = ""] = found;
      links.push({ text, path, line: Number(line), call, docLine: i + 1 });
    }
  });
  return links;
}
