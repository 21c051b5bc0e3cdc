/**
 * docs/tutorial.md stays true: every transcript in it is run again (servers on port 0, the built
 * apps; turbo builds them before this test) and must print what the doc shows, and every
 * `file:line` link must point at a line that holds the call it names.
 */

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { lineLinks } from "../src/doc-links.js";
import { itRunsDocTranscripts } from "../src/doc-transcripts.js";

const ROOT = new URL("../../../", import.meta.url);
const DOC = new URL("docs/tutorial.md", ROOT);

itRunsDocTranscripts(DOC, ROOT);

describe("docs/tutorial.md links to code", () => {
  const links = lineLinks(readFileSync(DOC, "utf8"));

  it("links to lines of code", () => {
    expect(links.length).toBeGreaterThan(10);
  });

  it.each(links.map((link) => [`${link.path}:${link.line}`, link] as const))(
    "%s holds the call the doc names",
    (_where, link) => {
      expect(link.text, `line ${link.docLine}: the link's text names another line`).toBe(
        `${link.path}:${link.line}`,
      );
      const lines = readFileSync(new URL(link.path, ROOT), "utf8").split("\n");
      const target = lines[link.line - 1] ?? "";
      const found = lines.flatMap((row, i) => (row.includes(link.call) ? [i + 1] : []));
      expect(
        target,
        `line ${link.docLine}: ${link.path}:${link.line} should hold \`${link.call}\` (found at ${found.join(", ") || "no line"})`,
      ).toContain(link.call);
    },
  );
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

describe("the READMEs lead to docs/tutorial.md", () => {
  const read = (path: string) => readFileSync(new URL(path, ROOT), "utf8");

  it("is the first link of the root README", () => {
    const first = /\[[^\]]*\]\(([^)]+)\)/.exec(read("README.md"))?.[1];
    expect(first).toBe("docs/tutorial.md");
  });

  it("every link to a part of it (from the READMEs and itself) names one of its headings", () => {
    const anchors = new Set(
      read("docs/tutorial.md")
        .split("\n")
        .filter((line) => line.startsWith("## "))
        .map((line) => anchorOf(line.slice(3))),
    );
    const readmes = [
      "README.md",
      ...readdirSync(new URL("apps/", ROOT)).map((app) => `apps/${app}/README.md`),
    ];
    const linked = [
      ...readmes.flatMap((path) =>
        [...read(path).matchAll(/docs\/tutorial\.md#([\w-]+)/g)].map((m) => `${path}#${m[1]}`),
      ),
      // and the doc's links to its own parts
      ...[...read("docs/tutorial.md").matchAll(/\]\(#([\w-]+)\)/g)].map((m) => `docs#${m[1]}`),
    ];
    expect(linked.length).toBeGreaterThan(3);
    const broken = linked.filter((link) => !anchors.has(link.split("#")[1] ?? ""));
    expect(broken).toEqual([]);
  });
});

describe("what the doc's examples need of this machine", () => {
  it("keeps ports below 1024 privileged, for the EACCES example (net.ipv4.ip_unprivileged_port_start)", () => {
    const start = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
    expect(start).toBeGreaterThan(80);
  });
});
