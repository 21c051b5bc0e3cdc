/** How the walkthrough's blocks and links are read, without running anything. */

import { describe, expect, it } from "vitest";
import { lineLinks } from "../src/doc-links.js";
import { docSections } from "../src/doc-transcripts.js";

const FENCE = "```";

const DOC = [
  "# Title",
  "## One",
  "Terminal 1:",
  "",
  FENCE,
  "$ pnpm tcp:server",
  "$ exec node scripts/app.mjs apps/tcp-echo server-cli",
  "listening on tcp://127.0.0.1:7000",
  "^Cstopped: 0 connections, 0 messages",
  FENCE,
  "",
  "Terminal 2 (the pieces vary from run to run):",
  "",
  FENCE,
  "$ pnpm tcp:client --rechunk",
  "$ exec node scripts/app.mjs apps/tcp-echo client-cli --rechunk",
  "recv(20) = 2",
  "$ echo hi",
  "hi",
  FENCE,
  "## Two, shown only",
  `${FENCE}console`,
  "$ ss -tlnp",
  FENCE,
].join("\n");

describe("docSections", () => {
  it("reads commands, pnpm's echo, terminals with ^C, and 'vary'", () => {
    const [one, ...rest] = docSections(DOC);
    expect(rest).toEqual([]); // a ```console block is not run
    expect(one?.heading).toBe("One");
    const [server, client] = one?.blocks ?? [];
    expect(server).toMatchObject({ line: 5, background: true, varies: false });
    expect(server?.commands).toEqual([
      {
        line: 6,
        text: "pnpm tcp:server",
        expected: [
          "$ exec node scripts/app.mjs apps/tcp-echo server-cli",
          "listening on tcp://127.0.0.1:7000",
          "^Cstopped: 0 connections, 0 messages",
        ],
      },
    ]);
    expect(client).toMatchObject({ background: false, varies: true });
    expect(client?.commands.map((command) => [command.line, command.text])).toEqual([
      [15, "pnpm tcp:client --rechunk"],
      [18, "echo hi"],
    ]);
  });

  it("refuses a ^C block of two commands: which one gets Ctrl-C?", () => {
    const doc = ["## S", FENCE, "$ a", "$ b", "^C", FENCE].join("\n");
    expect(() => docSections(doc)).toThrow(/one command/);
  });
});

describe("lineLinks", () => {
  it("reads each file:line link and the call after it, on the next line too", () => {
    const doc = "at [a/b.ts:3](../a/b.ts#L3)\n`listen(x)`; [c.ts:9](../c.ts#L9) `close()`.";
    expect(lineLinks(doc)).toEqual([
      { text: "a/b.ts:3", path: "a/b.ts", line: 3, call: "listen(x)", docLine: 1 },
      { text: "c.ts:9", path: "c.ts", line: 9, call: "close()", docLine: 2 },
    ]);
  });

  it("throws for a line link that names no call", () => {
    expect(() => lineLinks("see [a.ts:3](../a.ts#L3) here")).toThrow(/no `call` after it/);
  });
});
