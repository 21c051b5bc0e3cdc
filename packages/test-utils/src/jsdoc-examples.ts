/**
 * Runs the `@example` blocks of a package's doc comments as tests, the way
 * `itRunsReadmeExamples` (readme-examples.ts) runs a README's: every example in every `.ts`
 * file under `src/` (nested folders included) is imported into the test process through Vite,
 * with the package's exports (each entry point of its `exports` map, or `src/index.ts`) and its
 * own file's exports in scope (imported with their types), and must run without throwing. Then
 * all of them are type-checked with the package's tsconfig (strict): Vite does not check types.
 *
 * A `//=>` comment shows what the statement before it gives: what that statement printed with
 * `console.log` or, when it printed nothing, its value (a `const x = …` gives `x`). Values are
 * written as in the comments: strings in double quotes with JSON escapes, `{ key: value }`,
 * `[a, b]`, `<Buffer 68 69>`. Several `//=>` lines after one statement are its output's lines.
 * `//=> throws SocketError [ERR_TIMEOUT]: message` shows what an expression throws or rejects
 * with. Both sides are compared after ports above 1023 and times are normalised
 * ({@link normaliseOutput}). An example may import what it needs (`node:events`, another
 * package, `./other.js` as its own file would); what it opens, it closes.
 *
 * An example that cannot run on its own (it uses a `connection` from a handler, a file on
 * disk) says so with a caption: `@example Fragment: inside a handler`. Fragments are counted,
 * never run, and may not hold a `//=>`.
 *
 * @example Fragment: the test file of a package
 * // packages/tcp/test/jsdoc-examples.test.ts
 * import { itRunsJsdocExamples } from "@socket-lab/test-utils/jsdoc-examples";
 * itRunsJsdocExamples(new URL("../src/", import.meta.url));
 */

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatWithOptions, inspect } from "node:util";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { normaliseOutput } from "./readme-examples.js";
import { TYPECHECK_MS, typeScriptOf } from "./type-check.js";

/** One `@example` of a doc comment. */
export interface JsdocExample {
  /** 1-based line of the `@example` tag. */
  readonly line: number;
  /** Text after `@example` on its line ("" when there is none). */
  readonly caption: string;
  /** The example's code, without the comment's `*` margin. */
  readonly code: string;
  /** 1-based line of the code's first line. */
  readonly codeLine: number;
  /** Why it is not run, for a caption starting with "Fragment"; undefined when it runs. */
  readonly fragment: string | undefined;
}

/** A caption that marks an example as not runnable: `Fragment: why`. */
const FRAGMENT = /^fragment\b[\s:,—-]*(.*)$/i;
const TAG = /^@\w/;

/** The `@example` blocks of a TypeScript file's doc comments, in order. */
export function jsdocExamples(source: string): JsdocExample[] {
  const lines = source.split("\n");
  const examples: JsdocExample[] = [];
  let inDoc = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? "";
    if (!inDoc) {
      inDoc = /^\s*\/\*\*(?!\/)/.test(raw) && !raw.includes("*/");
      continue;
    }
    if (/^\s*\*\//.test(raw)) {
      inDoc = false;
      continue;
    }
    const text = stripMargin(raw);
    const tag = /^@example\b\s*(.*)$/.exec(text);
    if (tag === null) continue;
    const caption = (tag[1] ?? "").trim();
    const code: string[] = [];
    let at = i + 1;
    for (; at < lines.length; at++) {
      const line = lines[at] ?? "";
      if (/^\s*\*\//.test(line) || TAG.test(stripMargin(line))) break;
      code.push(stripMargin(line));
    }
    while (code.length > 0 && code[code.length - 1]?.trim() === "") code.pop();
    const fragment = FRAGMENT.exec(caption);
    examples.push({
      line: i + 1,
      caption,
      code: code.join("\n"),
      codeLine: i + 2,
      fragment: fragment === null ? undefined : (fragment[1] ?? "").trim(),
    });
    i = at - 1;
  }
  return examples;
}

/** A doc comment's line without its `*` margin (and the one space after it). */
function stripMargin(line: string): string {
  return line.replace(/^\s*\*(?: |$)/, "");
}

/** What one `//=>` group checks: the statement's output against the text shown. */
export interface ExampleCheck {
  /** 0-based line, in the example's code, of the first `//=>` of the group. */
  readonly line: number;
  readonly expected: string;
}

/** An example's code rewritten so each `//=>` becomes a check, and the imports it makes. */
export interface RewrittenExample {
  /** Import declarations of the example, to go at the top of the module. */
  readonly imports: string;
  /** Names those imports bind. */
  readonly imported: readonly string[];
  /** The example's statements, each one followed by a `//=>` wrapped in a check. */
  readonly body: string;
  readonly checks: readonly ExampleCheck[];
}

/** The identifier the rewritten code calls: `CHECKER.begin()`, `CHECKER.check(line, text, value)`. */
const CHECKER = "__example";

/**
 * Rewrites an example: the statement before each `//=>` comment (on its line or the lines
 * just above) becomes `begin(); statement; check(line, expected, value)`.
 * @throws {Error} naming the line of a `//=>` that follows no statement.
 */
export function rewriteExample(code: string): RewrittenExample {
  // `export {}` after the code makes it a module, where `await` at the top is an operator.
  const file = ts.createSourceFile(
    "example.ts",
    `${code}\nexport {};\n`,
    ts.ScriptTarget.Latest,
    true,
  );
  const lists: (readonly ts.Statement[])[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isSourceFile(node) || ts.isBlock(node) || ts.isModuleBlock(node)) {
      lists.push(node.statements);
    } else if (ts.isCaseClause(node) || ts.isDefaultClause(node)) {
      lists.push(node.statements);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);

  const groups = new Map<ts.Statement, { line: number; expected: string[] }>();
  for (const comment of outputComments(file)) {
    const statement = lists
      .flat()
      .filter((s) => s.end <= comment.pos && isGap(code.slice(s.end, comment.pos)))
      .sort((a, b) => b.end - a.end)[0];
    const line = file.getLineAndCharacterOfPosition(comment.pos).line;
    if (statement === undefined) {
      throw new Error(`the //=> at line ${line + 1} of the example follows no statement`);
    }
    const group = groups.get(statement) ?? { line, expected: [] };
    group.expected.push(comment.text);
    groups.set(statement, group);
  }

  const imports = file.statements.filter(ts.isImportDeclaration);
  const edits: { start: number; end: number; text: string }[] = imports.map((node) => ({
    start: node.getStart(),
    end: node.end,
    text: "",
  }));
  const checks: ExampleCheck[] = [];
  for (const [statement, group] of groups) {
    const expected = group.expected.join("\n");
    checks.push({ line: group.line, expected });
    const head = `${CHECKER}.begin(); `;
    const args = `${group.line}, ${JSON.stringify(expected)}`;
    const text = statement.getText();
    const ended = text.endsWith(";") || text.endsWith("}") ? text : `${text};`;
    let rewritten: string;
    if (ts.isExpressionStatement(statement) && expected.startsWith("throws ")) {
      const expression = statement.expression.getText();
      rewritten = `${head}await ${CHECKER}.checkThrows(${args}, async () => (${expression}));`;
    } else if (expected.startsWith("throws ")) {
      throw new Error(
        `the //=> throws at line ${group.line + 1} of the example follows no expression`,
      );
    } else if (ts.isExpressionStatement(statement)) {
      rewritten = `${head}${CHECKER}.check(${args}, (${statement.expression.getText()}));`;
    } else if (ts.isVariableStatement(statement) && declaredName(statement) !== undefined) {
      rewritten = `${head}${ended} ${CHECKER}.check(${args}, ${declaredName(statement)});`;
    } else {
      rewritten = `${head}${ended} ${CHECKER}.check(${args});`;
    }
    edits.push({ start: statement.getStart(), end: statement.end, text: rewritten });
  }
  let body = code;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    body = body.slice(0, edit.start) + edit.text + body.slice(edit.end);
  }
  checks.sort((a, b) => a.line - b.line);
  return {
    imports: imports.map((node) => node.getText()).join("\n"),
    imported: imports.flatMap(importedNames),
    body,
    checks,
  };
}

/**
 * The `//=>` comments of a parsed example: where each starts and the text after the arrow (one
 * space after it left out). Every line holding `//=>` must be one of them.
 * @throws {Error} naming a line whose `//=>` is not a comment the parser sees (in a string, say).
 */
function outputComments(file: ts.SourceFile): { pos: number; text: string }[] {
  const code = file.text;
  const found = new Map<number, string>();
  const collect = (ranges: ts.CommentRange[] | undefined) => {
    for (const range of ranges ?? []) {
      const text = code.slice(range.pos, range.end);
      if (range.kind === ts.SyntaxKind.SingleLineCommentTrivia && text.startsWith("//=>")) {
        found.set(range.pos, text.slice(4).replace(/^ /, "").trimEnd());
      }
    }
  };
  const visit = (node: ts.Node) => {
    collect(ts.getLeadingCommentRanges(code, node.pos));
    collect(ts.getTrailingCommentRanges(code, node.end));
    for (const child of node.getChildren(file)) visit(child);
  };
  visit(file);
  const comments = [...found].map(([pos, text]) => ({ pos, text })).sort((x, y) => x.pos - y.pos);
  const lines = code.split("\n").flatMap((line, n) => (line.includes("//=>") ? [n] : []));
  const placed = new Set(comments.map((c) => file.getLineAndCharacterOfPosition(c.pos).line));
  const lost = lines.find((line) => !placed.has(line));
  if (lost !== undefined) {
    throw new Error(`the //=> at line ${lost + 1} of the example is not a comment the parser sees`);
  }
  return comments;
}

/** Whether text between a statement and a `//=>` is only space and earlier `//=>` lines. */
function isGap(text: string): boolean {
  return text.replace(/\/\/.*$/gm, "").trim() === "";
}

/** The name a one-declaration `const x = …` declares. */
function declaredName(statement: ts.VariableStatement): string | undefined {
  const declarations = statement.declarationList.declarations;
  const first = declarations[0];
  if (declarations.length !== 1 || first === undefined || !ts.isIdentifier(first.name)) return;
  return first.name.text;
}

function importedNames(node: ts.ImportDeclaration): string[] {
  const clause = node.importClause;
  if (clause === undefined) return [];
  const names = clause.name === undefined ? [] : [clause.name.text];
  const bindings = clause.namedBindings;
  if (bindings === undefined) return names;
  if (ts.isNamespaceImport(bindings)) return [...names, bindings.name.text];
  return [...names, ...bindings.elements.map((element) => element.name.text)];
}

/**
 * A value as the `//=>` comments write it, on one line: `"text"` (JSON escapes), numbers,
 * `{ key: value }`, `[a, b]`, `<Buffer 68 69>`; anything else as `util.inspect` shows it.
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value !== "object" || value === null) return String(value);
  if (ArrayBuffer.isView(value)) return inspect(value, { breakLength: Number.POSITIVE_INFINITY });
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const entries = Object.entries(value).map(([key, item]) => {
      const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
      return `${name}: ${formatValue(item)}`;
    });
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  }
  if (value instanceof Error) return formatError(value);
  return inspect(value, { breakLength: Number.POSITIVE_INFINITY, depth: 4 });
}

/** An error as Node prints its first line: `TypeError [ERR_INVALID_ARG_TYPE]: message`. */
function formatError(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === "string" ? ` [${code}]` : ""}: ${error.message}`;
}

/** What an example shows against what it gave, where a `//=>` does not hold. */
interface Mismatch {
  readonly line: number;
  readonly expected: string;
  readonly actual: string;
}

/** The object a rewritten example calls (see {@link CHECKER}), for one run. */
class Checker {
  readonly printed: string[] = [];
  readonly mismatches: Mismatch[] = [];
  /** Lines of the checks that ran. */
  readonly ran = new Set<number>();
  #from = 0;

  begin(): void {
    this.#from = this.printed.length;
  }

  check(line: number, expected: string, ...value: unknown[]): void {
    const printed = this.printed.slice(this.#from);
    const actual =
      printed.length > 0
        ? printed.join("\n")
        : value.length > 0
          ? formatValue(value[0])
          : "(nothing printed)";
    this.#compare(line, expected, actual);
  }

  /** For `//=> throws …`: what `run` threw (or rejected with), as `throws Name [code]: message`. */
  async checkThrows(line: number, expected: string, run: () => Promise<unknown>): Promise<void> {
    let actual: string;
    try {
      actual = `returned ${formatValue(await run())}`;
    } catch (err) {
      actual = `throws ${err instanceof Error ? formatError(err) : formatValue(err)}`;
    }
    this.#compare(line, expected, actual);
  }

  #compare(line: number, expected: string, actual: string): void {
    this.ran.add(line);
    if (actual !== expected && normaliseOutput(actual) !== normaliseOutput(expected)) {
      this.mismatches.push({ line, expected, actual });
    }
  }
}

/** Longest an example may run, ms: they are small, so only a hang takes this long. */
const EXAMPLE_MS = 30_000;

/** Longest the sockets an example closed may take to be gone, ms. */
const CLOSE_MS = 10_000;

/** Sockets and servers (TCP, UDP, unix) open in this process. */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((name) => /TCP|UDP|Pipe/.test(name)).length;
}

/** Counts of one package's examples, printed after its tests. */
interface Tally {
  run: number;
  asserted: number;
  checks: number;
  fragments: number;
}

/**
 * The source files of a package's entry points: the `@socket-lab/source` file of each entry of
 * its package.json `exports`, the main entry (`.`) last so that its names win; or
 * `src/index.ts` where there is no such map (an app).
 */
function entryPoints(root: string, src: string): string[] {
  const manifest = join(root, "package.json");
  const exports: unknown = existsSync(manifest)
    ? JSON.parse(readFileSync(manifest, "utf8")).exports
    : undefined;
  const sources: string[] = [];
  if (typeof exports === "object" && exports !== null) {
    for (const [key, target] of Object.entries(exports)) {
      const source = (target as Record<string, unknown> | null)?.["@socket-lab/source"];
      if (typeof source !== "string") continue;
      const path = join(root, source);
      if (key === ".") sources.push(path);
      else sources.unshift(path);
    }
  }
  const index = join(src, "index.ts");
  if (sources.length === 0 && existsSync(index)) sources.push(index);
  return sources;
}

/** The `.ts` files under a folder, nested folders included, declaration files left out. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".d.ts"))
    .map((name) => join(dir, name))
    .sort();
}

/**
 * Adds one test per `@example` of the `.ts` files under `srcUrl` (a package's or an app's
 * `src/`, nested folders included), and prints how many ran, how many had `//=>` checks and
 * how many are fragments. Each example is written to a scratch folder next to `src/`, so its
 * imports resolve as the package's own do.
 */
export function itRunsJsdocExamples(srcUrl: URL): void {
  const src = fileURLToPath(srcUrl);
  const root = dirname(src);
  const entries = entryPoints(root, src);
  const files = sourceFiles(src).map((path) => ({
    path,
    name: relative(root, path),
    examples: jsdocExamples(readFileSync(path, "utf8")),
  }));
  const all = files.flatMap((file) => file.examples.map((example) => ({ file, example })));
  const tally: Tally = { run: 0, asserted: 0, checks: 0, fragments: 0 };
  const scratch = mkdtempSync(join(root, ".jsdoc-examples-"));
  const compiler = typeScriptOf(
    root,
    files.map(({ path }) => path),
  );
  const written: Written[] = [];
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    console.log(
      `@example blocks in ${relative(dirname(dirname(root)), src)}: ${tally.run} run, ` +
        `${tally.asserted} of them with ${tally.checks} //=> checks; ` +
        `${tally.fragments} fragments not run`,
    );
  });

  describe("@example blocks", () => {
    it("has examples, and every fragment says why it is not run", () => {
      expect(all.length).toBeGreaterThan(0);
      const unexplained = all.filter(({ example }) => example.fragment === "");
      expect(unexplained.map(({ file, example }) => `${file.name}:${example.line}`)).toEqual([]);
    });

    it.each(
      all.map(({ file, example }) => [`${file.name}:${example.line}`, file, example] as const),
    )("%s runs and gives what its //=> lines show", async (where, file, example) => {
      if (example.fragment !== undefined) {
        tally.fragments += 1;
        expect(example.code, `${where} is a fragment but has //=> output`).not.toContain("//=>");
        return;
      }
      const rewritten = rewriteExample(example.code);
      const modules = [...entries.filter((entry) => entry !== file.path), file.path];
      // Each name from the module that exports it last (the main entry, then its own file).
      const owners = new Map<string, { entry: string; value: boolean }>();
      for (const entry of modules) {
        const values = Object.keys(await import(entry));
        for (const name of values) owners.set(name, { entry, value: true });
        for (const name of compiler.typesOf(entry)) {
          if (!values.includes(name)) owners.set(name, { entry, value: false });
        }
      }
      const module = join(scratch, `${file.name.replace(/[/\\.]/g, "-")}-${example.line}.mts`);
      const path = (to: string) => {
        const relativePath = relative(scratch, to).split("\\").join("/");
        return relativePath.startsWith(".") ? relativePath : `./${relativePath}`;
      };
      const prelude = [
        // An example imports relative paths as its own file would: `./compare.js`.
        rewritten.imports.replace(
          /(\bfrom\s+|\bimport\s+)(["'])(\.\.?\/[^"']+)\2/g,
          (_, keyword: string, quote: string, specifier: string) =>
            `${keyword}${quote}${path(join(dirname(file.path), specifier))}${quote}`,
        ),
        // The package's exports and its own file's, typed as they are (types too).
        ...modules.map((entry) => {
          const names = [...owners]
            .filter(([name, owner]) => owner.entry === entry && !rewritten.imported.includes(name))
            .map(([name, owner]) => (owner.value ? name : `type ${name}`));
          return names.length === 0 ? "" : `import { ${names.join(", ")} } from "${path(entry)}";`;
        }),
        `const ${CHECKER} = (globalThis as any)[Symbol.for("socket-lab.jsdoc-example")];`,
        "{",
      ].join("\n");
      writeFileSync(module, `${prelude}\n${rewritten.body}\n}\nexport {};\n`);
      written.push({ module, where: file.name, codeLine: example.codeLine, prelude });
      // The body keeps the example's lines, so line N of the module is line N - prelude of it.
      const sourceLine = (err: unknown) => {
        const at = new RegExp(`${basename(module).replace(/[.-]/g, "\\$&")}:(\\d+):`).exec(
          err instanceof Error ? (err.stack ?? "") : "",
        );
        const line = at === null ? undefined : Number(at[1]) - prelude.split("\n").length - 1;
        return line === undefined || line < 0 ? where : `${file.name}:${example.codeLine + line}`;
      };
      const openBefore = openSockets();
      const checker = new Checker();
      const log = console.log;
      const key = Symbol.for("socket-lab.jsdoc-example");
      (globalThis as Record<symbol, unknown>)[key] = checker;
      console.log = (...args: unknown[]) => {
        checker.printed.push(formatWithOptions({ colors: false }, ...args));
      };
      let timer: NodeJS.Timeout | undefined;
      const overdue = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`still running after ${EXAMPLE_MS} ms`)),
          EXAMPLE_MS,
        );
      });
      try {
        await Promise.race([import(pathToFileURL(module).href), overdue]);
      } catch (err) {
        throw new Error(`the example at ${where} threw at ${sourceLine(err)}: ${String(err)}`, {
          cause: err,
        });
      } finally {
        clearTimeout(timer);
        console.log = log;
        delete (globalThis as Record<symbol, unknown>)[key];
      }
      // What an example opens it closes: a server left listening would hold its port and
      // keep the test process alive.
      const deadline = Date.now() + CLOSE_MS;
      while (openSockets() > openBefore && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(
        openSockets() - openBefore,
        `sockets the example at ${where} left open (close them, or \`await using\`)`,
      ).toBeLessThanOrEqual(0);
      tally.run += 1;
      if (rewritten.checks.length > 0) tally.asserted += 1;
      tally.checks += rewritten.checks.length;
      const at = (line: number) => `${file.name}:${example.codeLine + line}`;
      const failures = [
        ...checker.mismatches.map((m) => `${at(m.line)}: //=> ${m.expected}\n  gave: ${m.actual}`),
        ...rewritten.checks
          .filter((check) => !checker.ran.has(check.line))
          .map((check) => `${at(check.line)}: //=> ${check.expected}\n  never ran`),
      ];
      expect(failures, `the //=> lines of the example at ${where}`).toEqual([]);
    });

    // After the examples ran: their modules are still in the scratch folder.
    if (all.some(({ example }) => example.fragment === undefined)) {
      it(
        "every example that ran type-checks, strict, as the package's own code does",
        () => {
          const errors = compiler.check(written.map(({ module }) => module));
          const at = (module: string, line: number) => {
            const example = written.find((w) => w.module === module);
            if (example === undefined) return `${module}:${line + 1}`;
            const offset = line - example.prelude.split("\n").length;
            return `${example.where}:${example.codeLine + Math.max(offset, 0)}`;
          };
          expect(errors.map(({ module, line, text }) => `${at(module, line)}: ${text}`)).toEqual(
            [],
          );
        },
        TYPECHECK_MS,
      );
    }
  });
}

/** One example module as written, to name the source line of a type error in it. */
interface Written {
  readonly module: string;
  /** The source file, relative to the package. */
  readonly where: string;
  readonly codeLine: number;
  readonly prelude: string;
}
