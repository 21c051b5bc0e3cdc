/**
 * Runs the shell transcripts of a walkthrough (docs/tutorial.md) as tests, the way
 * readme-examples.ts runs a README's: every plain fenced block (a bare ```, no language) whose
 * first line is `$ COMMAND` is run from the repository root with bash, and what it printed (stdout and stderr, as a terminal shows
 * them) must equal the lines under each command, once ports, times, file descriptors and temp
 * paths are normalised.
 *
 * - `$ pnpm tcp:client ARGS` runs what the root script runs after its build,
 *   `node apps/tcp-echo/dist/client-cli.js ARGS` (turbo builds the apps before this test); the
 *   `$ exec node scripts/app.mjs …` line pnpm echoes, and its `[ELIFECYCLE] Command failed with
 *   exit code N.` line, are made from package.json and the exit code.
 * - A block with a `^C` line is a program in its own terminal (a server, or a chat client): it
 *   starts first, on port 0, and the section's later blocks run while it does; once they are done
 *   and it has printed what the doc shows before `^C`, it gets SIGINT and must print the rest.
 * - Ports: the doc's ports (7000, 8080, …) become the ports the running programs really got; a
 *   port nobody listens on becomes a free one. Paths under `/tmp/NAME/` become a new temp folder.
 * - When the paragraph before a block says the output varies ("vary", "varies"), the block's
 *   lines must be the same kinds of lines (numbers aside) as the doc's, not the same lines.
 * - A block fenced with a language (```console, ```sh) is shown, not run: for output no test can
 *   repeat (ss, tcpdump), or commands that need what the test machine may lack.
 *
 * @example Fragment: it declares vitest tests, so it runs only inside a test file
 * // packages/test-utils/test/tutorial.test.ts
 * itRunsDocTranscripts(new URL("../../../docs/tutorial.md", import.meta.url));
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { WAIT_MS } from "./programs.js";
import { normaliseOutput } from "./readme-examples.js";

/** One `$ COMMAND` of a transcript and the lines the doc shows under it. */
export interface DocCommand {
  /** 1-based line of the command in the doc. */
  readonly line: number;
  /** The command, without `$ `. */
  readonly text: string;
  readonly expected: readonly string[];
}

/** A fenced block of commands; `background` when it shows `^C` (it runs in its own terminal). */
export interface DocBlock {
  readonly line: number;
  readonly commands: readonly DocCommand[];
  readonly background: boolean;
  /** The paragraph before it says the output varies: compare kinds of lines. */
  readonly varies: boolean;
}

/** A `##` section and its transcripts, run together (a server and its clients). */
export interface DocSection {
  readonly heading: string;
  readonly line: number;
  readonly blocks: readonly DocBlock[];
}

/** pnpm's echo of the script it runs. */
const PNPM_ECHO = /^\$ exec node scripts\/app\.mjs /;

/** The sections of a walkthrough that hold transcripts, in order. */
export function docSections(markdown: string): DocSection[] {
  const lines = markdown.split("\n");
  const sections: { heading: string; line: number; blocks: DocBlock[] }[] = [];
  let paragraph: string[] = [];
  let previous: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? "";
    if (text.startsWith("## ")) {
      sections.push({ heading: text.slice(3), line: i + 1, blocks: [] });
      continue;
    }
    if (!text.startsWith("```")) {
      if (text.trim() !== "") paragraph.push(text);
      else if (paragraph.length > 0) [previous, paragraph] = [paragraph, []];
      continue;
    }
    const start = i;
    const plain = text === "```";
    const body: string[] = [];
    for (i += 1; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i] ?? "");
    const before = (paragraph.length > 0 ? paragraph : previous).join(" ");
    [previous, paragraph] = [[], []];
    if (!plain || !(body[0] ?? "").startsWith("$ ")) continue;
    const commands: { line: number; text: string; expected: string[] }[] = [];
    body.forEach((row, k) => {
      const last = commands.at(-1);
      const echo = last !== undefined && last.expected.length === 0 && PNPM_ECHO.test(row);
      if (row.startsWith("$ ") && !echo) {
        commands.push({ line: start + 2 + k, text: row.slice(2), expected: [] });
      } else {
        last?.expected.push(row);
      }
    });
    const background = body.some((row) => row.startsWith("^C"));
    if (background && commands.length !== 1) {
      throw new Error(`line ${start + 1}: a block with ^C must hold one command`);
    }
    const varies = /\bvar(y|ies)\b/.test(before);
    sections.at(-1)?.blocks.push({ line: start + 1, commands, background, varies });
  }
  return sections.filter((section) => section.blocks.length > 0);
}

/** The root package.json's scripts: `tcp:client` → `exec node scripts/app.mjs apps/tcp-echo client-cli`. */
function rootScripts(root: string): Record<string, string> {
  return JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts;
}

/** The port each app's programs use when given none. */
const DEFAULT_PORTS: Record<string, string> = {
  "apps/tcp-echo": "7000",
  "apps/udp-echo": "7001",
  "apps/tcp-chat": "7002",
  "apps/web-hello": "8080",
};

/** A port nothing listens on now (bound to 127.0.0.1 by the system, then released). */
function freePort(): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(String(port)));
    });
  });
}

/** A program of the doc running in the background. */
interface Running {
  readonly block: DocBlock;
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number | null>;
  /** Whole lines printed so far. */
  lines(): string[];
  /** Resolves once `count` whole lines are printed, the program exits, or WAIT_MS passes. */
  until(count: number): Promise<void>;
}

/** Runs the sections of one doc against the programs of the repository at `root`. */
class SectionRun {
  /** The doc's port → the real one. */
  readonly ports = new Map<string, string>();
  /** The doc's `/tmp/NAME` → a new temp folder. */
  readonly folders = new Map<string, string>();
  readonly running: Running[] = [];
  readonly scripts: Record<string, string>;

  constructor(readonly root: string) {
    this.scripts = rootScripts(root);
  }

  /** The app folder of `pnpm SCRIPT`, or of `node apps/APP/dist/…`, in a command. */
  appOf(text: string): string | undefined {
    const script = /\bpnpm ([\w:-]+)/.exec(text)?.[1];
    const command = script === undefined ? undefined : this.scripts[script];
    return (/scripts\/app\.mjs (apps\/[\w-]+)/.exec(command ?? "") ??
      /\b(apps\/[\w-]+)\/dist\//.exec(text))?.[1];
  }

  /** The command as bash runs it here: real ports, temp folders, built programs. */
  async rewrite(text: string, background: boolean): Promise<string> {
    let command = text;
    for (const folder of new Set(text.match(/\/tmp\/[\w.-]+(?=\/)/g) ?? [])) {
      if (!this.folders.has(folder)) {
        this.folders.set(folder, mkdtempSync(join(tmpdir(), "socket-lab-doc-")));
      }
      command = command.replaceAll(folder, this.folders.get(folder) ?? folder);
    }
    const app = this.appOf(text);
    // A server in its own terminal gets port 0; a client there (a chat client) the server's.
    const server = /server/.test(this.scripts[/\bpnpm ([\w:-]+)/.exec(text)?.[1] ?? ""] ?? text);
    const servesPort = background && server && !/--unix /.test(text);
    if (servesPort) {
      command = command.replace(/(--(?:https-)?port |-p )\d+/g, "$10");
      if (!/(--port|-p) /.test(command)) command += " --port 0";
      if (app === "apps/web-hello" && !/--https-port |--http-only/.test(command)) {
        command += " --https-port 0";
      }
    } else {
      const ports = [...new Set(command.match(/(?<=(?::|--port |-p ))\d{4,5}\b/g) ?? [])];
      for (const port of ports) {
        if (!this.ports.has(port)) this.ports.set(port, await freePort());
        command = command.replace(
          new RegExp(`(:|--port |-p )${port}\\b`, "g"),
          `$1${this.ports.get(port)}`,
        );
      }
      const isApp = app !== undefined && DEFAULT_PORTS[app] !== undefined;
      if (isApp && !/(--port|-p|--unix) /.test(command) && !/:\d+\b/.test(command)) {
        const port = DEFAULT_PORTS[app as string] as string;
        if (!this.ports.has(port)) this.ports.set(port, await freePort());
        command = command.replace(
          /(\bpnpm [\w:-]+|\.js)(?=\s|$)/,
          `$1 --port ${this.ports.get(port)}`,
        );
      }
    }
    // pnpm SCRIPT → the program the script runs once its build is done.
    return command.replace(/\bpnpm ([\w:-]+)/g, (whole, script: string) => {
      const target = /^exec node scripts\/app\.mjs (\S+) (\S+)$/.exec(this.scripts[script] ?? "");
      if (target === null) return whole;
      return `"${process.execPath}" ${target[1]}/dist/${target[2]}.js`;
    });
  }

  /** What pnpm prints before the program: `$ exec node scripts/app.mjs … ARGS`. */
  pnpmEcho(text: string): string | undefined {
    const call = /\bpnpm ([\w:-]+)((?: [^|;&]*)?)/.exec(text);
    if (call === null) return undefined;
    const script = this.scripts[call[1] ?? ""];
    return script === undefined ? undefined : `$ ${script}${(call[2] ?? "").trimEnd()}`;
  }

  /** Runs one command to its end; returns what a terminal shows for it. */
  async run(command: DocCommand): Promise<string> {
    const bash = await this.rewrite(command.text, false);
    const child = spawn("bash", ["-c", `exec 2>&1\n${bash}`], {
      cwd: this.root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    let timer: NodeJS.Timeout | undefined;
    const code = await new Promise<number | null>((resolve) => {
      timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS * 4);
      child.on("close", (status) => resolve(status));
    }).finally(() => clearTimeout(timer));
    return this.terminal(command.text, output, code);
  }

  /** Adds pnpm's own lines around a program's output. */
  terminal(text: string, output: string, code: number | null): string {
    const echo = this.pnpmEcho(text);
    const lines = output === "" ? [] : output.replace(/\n$/, "").split("\n");
    if (echo !== undefined) {
      lines.unshift(echo);
      if (code !== 0) lines.push(`[ELIFECYCLE] Command failed with exit code ${code}.`);
    }
    return lines.join("\n");
  }

  /** Starts a `^C` block's program and waits until it is ready (listening, joined). */
  async start(block: DocBlock): Promise<Running> {
    const command = block.commands[0] as DocCommand;
    const bash = await this.rewrite(command.text, true);
    const child = spawn("bash", ["-c", `exec 2>&1\nexec ${bash}`], {
      cwd: this.root,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const watchers = new Set<() => void>();
    const program: Running = {
      block,
      child,
      output: "",
      exited: new Promise((resolve) => child.on("close", (status) => resolve(status))),
      lines: () => program.output.split("\n").slice(0, -1),
      until(count) {
        return new Promise<void>((resolve) => {
          const timer = setTimeout(done, WAIT_MS);
          function done() {
            clearTimeout(timer);
            watchers.delete(check);
            resolve();
          }
          function check() {
            if (program.lines().length >= count || child.exitCode !== null) done();
          }
          watchers.add(check);
          check();
        });
      },
    };
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      program.output += chunk;
      for (const watcher of watchers) watcher();
    });
    child.on("close", () => {
      for (const watcher of watchers) watcher();
    });
    this.running.push(program);
    const shown = command.expected.filter((row) => !PNPM_ECHO.test(row));
    await program.until(readyLines(shown));
    // The doc's listening ports → the ones the program got, in the order it printed them.
    const listening = (rows: readonly string[]) =>
      rows.flatMap((row) => /^listening on \S+:(\d+)$/.exec(row)?.[1] ?? []);
    const real = listening(program.lines());
    listening(shown).forEach((port, i) => {
      const got = real[i];
      if (got !== undefined) this.ports.set(port, got);
    });
    return program;
  }

  /**
   * After a command of another terminal: waits until each running program has printed what the
   * doc shows of that command's client (up to the next client's first line, or the `^C`).
   */
  async settle(): Promise<void> {
    for (const program of this.running) {
      if (program.block.varies) continue; // no line count to wait for
      const shown = program.block.commands[0]?.expected.filter((row) => !PNPM_ECHO.test(row));
      const starts = clientStarts(shown ?? []);
      const printed = program.lines().length;
      const next = starts.find((start) => start >= printed);
      if (next !== undefined) await program.until(next);
    }
  }

  /** Stops every running program with SIGINT, last started first; returns their outputs. */
  async stopAll(): Promise<Map<DocBlock, string>> {
    const outputs = new Map<DocBlock, string>();
    for (const program of [...this.running].reverse()) {
      const shown = program.block.commands[0]?.expected ?? [];
      const before = shown.findIndex((row) => row.startsWith("^C"));
      if (!program.block.varies) {
        await program.until(shown.slice(0, before).filter((row) => !PNPM_ECHO.test(row)).length);
      }
      program.child.kill("SIGINT");
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        program.exited,
        new Promise<null>((resolve) => {
          timer = setTimeout(() => {
            program.child.kill("SIGKILL");
            resolve(null);
          }, WAIT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      const text = program.block.commands[0]?.text ?? "";
      outputs.set(program.block, this.terminal(text, program.output, code));
    }
    this.running.length = 0;
    return outputs;
  }

  /** Kills what is left and removes the temp folders. */
  cleanUp(): void {
    for (const program of this.running) program.child.kill("SIGKILL");
    this.running.length = 0;
    for (const folder of this.folders.values()) rmSync(folder, { recursive: true, force: true });
  }

  /** The doc's ports and folders in place of the real ones, then the readme normalisation. */
  normalise(text: string, http: boolean): string {
    // scripts/app.mjs says so when its build takes over a second; the test runs the build itself.
    // curl ends its header lines with \r\n; a doc cannot show the \r.
    let out = text
      .replace(/\r$/gm, "")
      .replace(/^building \S+ and the packages it uses .*\n/gm, "");
    for (const [doc, real] of this.folders) out = out.replaceAll(real, doc);
    for (const [doc, real] of this.ports) {
      out = out.replace(new RegExp(`(?<=[: ])${real}\\b`, "g"), doc);
    }
    out = normaliseOutput(out.replace(/^\^C/gm, ""))
      .replace(/\b([0-9A-F]{2}:){31}[0-9A-F]{2}\b/g, "FINGERPRINT")
      .replace(/^(< )?Date: .*GMT$/gm, "$1Date: DATE");
    if (http) {
      // The page names the server's port: its length, and so the bytes, follow the port's digits.
      out = out
        .replace(/(Content-Length: |\{ \[)\d+/g, "$1N")
        .replace(/(recv\(fd\d+\) = )[1-9]\d+/g, "$1N")
        .replace(/(send\(fd\d+, )\d+/g, "$1N");
    }
    return out;
  }
}

/** Lines a program prints on its own before anyone talks to it: setup calls, where it listens. */
const SETUP =
  /^(socket\(|bind\(|listen\(|listening on |certificate: |replaced |\* welcome|\* \S+ is now )/;

/** How many of a program's first lines it prints on its own (at least 1). */
function readyLines(shown: readonly string[]): number {
  let count = 0;
  while (count < shown.length && SETUP.test(shown[count] ?? "")) count++;
  return Math.max(1, count);
}

/** An address with a port, as the programs print a client: `127.0.0.1:54012`, `[::1]:54012`. */
const CLIENT = /(?:\d+\.\d+\.\d+\.\d+|\[[\da-f:]+\]):(\d{4,5})\b/g;

/**
 * The indexes of the lines where a new client's story starts in a server's output (the first
 * line naming its address), and of the `^C` line.
 */
function clientStarts(shown: readonly string[]): number[] {
  const seen = new Set<string>();
  const listening = new Set(
    shown.flatMap((row) => /^listening on \S+:(\d+)$/.exec(row)?.[1] ?? []),
  );
  const starts: number[] = [];
  shown.forEach((row, i) => {
    let fresh = false;
    for (const [, port] of row.matchAll(CLIENT)) {
      if (port === undefined || listening.has(port) || seen.has(port)) continue;
      seen.add(port);
      fresh = true;
    }
    if (fresh && !starts.includes(i)) starts.push(i);
  });
  return starts.sort((a, b) => a - b);
}

/** The kinds of lines in a text: numbers as N, each kind once. */
function kinds(text: string): string[] {
  return [...new Set(text.split("\n").map((row) => row.replace(/\d+(\.\d+)?/g, "N")))].sort();
}

/**
 * Adds one test per section of the doc at `docUrl` that holds transcripts: it runs them from the
 * repository root `rootUrl` (build first) and compares what they print with the doc.
 */
export function itRunsDocTranscripts(docUrl: URL, rootUrl: URL): void {
  const doc = fileURLToPath(docUrl);
  const root = fileURLToPath(rootUrl);
  const sections = docSections(readFileSync(doc, "utf8"));
  let current: SectionRun | undefined;
  afterEach(() => {
    current?.cleanUp();
    current = undefined;
  });

  describe("docs/tutorial.md transcripts", () => {
    it("has transcripts", () => {
      expect(sections.length).toBeGreaterThan(0);
    });

    it.each(sections.map((section) => [section.heading, section] as const))(
      "%s: each command prints what the doc shows",
      async (_heading, section) => {
        const run = new SectionRun(root);
        current = run;
        const outputs = new Map<DocCommand, string>();
        for (const block of section.blocks) {
          if (block.background) {
            await run.start(block);
            continue;
          }
          for (const command of block.commands) {
            outputs.set(command, await run.run(command));
            await run.settle();
          }
        }
        for (const [block, output] of await run.stopAll()) {
          outputs.set(block.commands[0] as DocCommand, output);
        }
        for (const block of section.blocks) {
          for (const command of block.commands) {
            const http = /web:server|web-hello|curl /.test(
              section.blocks.map((b) => b.commands.map((c) => c.text).join(" ")).join(" "),
            );
            const expected = run.normalise(command.expected.join("\n"), http);
            const actual = run.normalise(outputs.get(command) ?? "", http);
            const where = `line ${command.line}: $ ${command.text}`;
            if (block.varies) {
              expect(kinds(actual), where).toEqual(kinds(expected));
            } else {
              expect(actual, where).toBe(expected);
            }
          }
        }
      },
    );
  });
}
