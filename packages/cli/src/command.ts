/**
 * Running a command-line program: flags parsed with `node:util` parseArgs plus `--help`,
 * `--version` and `--verbose`; errors printed as one line with a hint (exit 1); usage errors
 * naming the flag (exit 2); SIGINT/SIGTERM as an AbortSignal.
 */

import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import { ErrorCode, explain, SocketError } from "@socket-lab/core";
import { defaultTextOf, type FlagSpecs, type FlagValues, flagValue, UsageError } from "./flags.js";

/** Exit code for success. */
export const EXIT_OK = 0;
/** Exit code for a failure at run time: refused, timed out, address in use, … */
export const EXIT_FAILURE = 1;
/** Exit code for a bad command line: unknown flag, bad value, too many arguments. */
export const EXIT_USAGE = 2;

/** What a command's `run` receives. */
export interface CommandContext<F extends FlagSpecs> {
  readonly values: FlagValues<F>;
  readonly positionals: readonly string[];
  /**
   * Aborted on the first SIGINT or SIGTERM, with a SocketError `ERR_ABORTED` ("received SIGINT")
   * as its reason; a second signal exits at once with 130.
   */
  readonly signal: AbortSignal;
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** A command-line program. */
export interface CommandOptions<F extends FlagSpecs> {
  /** The program's name, printed before every error: `tcp-echo-client`. */
  readonly name: string;
  readonly version: string;
  /** One line saying what the program does. */
  readonly description: string;
  /** Usage lines without the name, e.g. `[HOST] [options]`. */
  readonly usage: string;
  readonly flags: F;
  /** Most positional arguments accepted. @default 0 */
  readonly maxPositionals?: number;
  /** Example command lines for `--help`. */
  readonly examples?: readonly string[];
  /** Hint added to run-time errors of this program (e.g. how to start the server), by error code. */
  readonly hints?: Readonly<Record<string, string>>;
  /** The program; its result is the exit code (undefined means 0). */
  run(context: CommandContext<F>): Promise<number | undefined> | number | undefined;
}

/** Where `runCommand` reads and writes; the process's own streams unless a test passes others. */
export interface CommandIo {
  argv?: readonly string[];
  stdin?: Readable & { isTTY?: boolean };
  stdout?: Writable;
  stderr?: Writable;
}

const BUILTIN_FLAGS = {
  help: { type: "boolean", short: "h", description: "show this help and exit" },
  version: { type: "boolean", short: "V", description: "print the version and exit" },
  verbose: { type: "boolean", description: "print stack traces with errors" },
} as const satisfies FlagSpecs;

/**
 * Runs a command: parses flags, handles `--help`/`--version`, wires signals, and turns any
 * error into one line on stderr. Resolves with the exit code; it never calls `process.exit`.
 *
 * @example
 * // a program's main: process.exitCode = await runCommand({ … });
 * await runCommand({ name: "hello", version: "1.0.0", description: "greets", usage: "[options]",
 *   flags: {}, run: ({ stdout }) => { stdout.write("hi\n"); } }, { argv: [] }) //=> 0
 */
export async function runCommand<F extends FlagSpecs>(
  command: CommandOptions<F>,
  io: CommandIo = {},
): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const argv = io.argv ?? process.argv.slice(2);
  const verbose = argv.includes("--verbose");
  const flags: FlagSpecs = { ...command.flags, ...BUILTIN_FLAGS };

  let parsed: ReturnType<typeof parseArgs>;
  let values: FlagValues<F>;
  const words: Record<string, string> = {};
  try {
    parsed = parseArgs({
      args: takeWords(argv, flags, words),
      options: Object.fromEntries(
        Object.entries(flags).map(([name, spec]) => [
          name,
          spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
    if (parsed.values.help === true) {
      stdout.write(formatHelp(command));
      return EXIT_OK;
    }
    if (parsed.values.version === true) {
      stdout.write(`${command.name} ${command.version}\n`);
      return EXIT_OK;
    }
    const max = command.maxPositionals ?? 0;
    if (parsed.positionals.length > max) {
      throw new UsageError(
        max === 0
          ? `unexpected argument '${parsed.positionals[0]}'`
          : `too many arguments: ${parsed.positionals.map((p) => `'${p}'`).join(" ")}`,
      );
    }
    const given = parsed.values;
    values = Object.fromEntries(
      Object.entries(command.flags).map(([name, spec]) => [
        name,
        flagValue(name, spec, words[name] ?? given[name]),
      ]),
    ) as FlagValues<F>;
  } catch (err) {
    return reportUsage(command.name, err, stderr);
  }

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(130);
    controller.abort(new SocketError(ErrorCode.ERR_ABORTED, `received ${signal}`));
  };
  const onFatal = (err: unknown) => {
    reportFailure(command, err, stderr, verbose);
    process.exit(EXIT_FAILURE);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("uncaughtException", onFatal);
  process.on("unhandledRejection", onFatal);
  try {
    const code = await command.run({
      values,
      positionals: parsed.positionals,
      signal: controller.signal,
      stdin: io.stdin ?? process.stdin,
      stdout,
      stderr,
    });
    return code ?? EXIT_OK;
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(command.name, err, stderr);
    reportFailure(command, err, stderr, verbose);
    return EXIT_FAILURE;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("uncaughtException", onFatal);
    process.off("unhandledRejection", onFatal);
  }
}

/**
 * Takes `--flag=WORD` of the boolean flags that accept words (which parseArgs would refuse) out
 * of `argv` into `words`, leaving `--flag`; arguments after `--` are left alone.
 * @throws {UsageError} for a word the flag does not take.
 */
function takeWords(
  argv: readonly string[],
  flags: FlagSpecs,
  words: Record<string, string>,
): string[] {
  const end = argv.indexOf("--");
  return argv.map((arg, i) => {
    const match = /^--([^=]+)=(.*)$/s.exec(arg);
    const spec = match === null ? undefined : flags[match[1] ?? ""];
    if (match === null || spec?.words === undefined || (end >= 0 && i > end)) return arg;
    const [, name = "", word = ""] = match;
    if (!spec.words.includes(word)) {
      throw new UsageError(`--${name}: '${word}' is not one of ${spec.words.join(", ")}`);
    }
    words[name] = word;
    return `--${name}`;
  });
}

function reportUsage(name: string, err: unknown, stderr: Writable): number {
  // parseArgs' own messages name the flag: "Unknown option '--prot'".
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(`${name}: ${message}\nRun '${name} --help' for usage.\n`);
  return EXIT_USAGE;
}

/** Formats a run-time error as the one line a user sees: `name: message. hint`. */
export function formatFailure(
  name: string,
  err: unknown,
  hints: Readonly<Record<string, string>> = {},
): string {
  const explained = explain(err);
  const hint = hints[explained.code] ?? explained.hint;
  // One line whatever the error says: its first line, without a final stop before the hint.
  const message = (explained.message.split("\n")[0] ?? "").replace(/\.$/, "");
  return `${name}: ${message}${hint === undefined ? "" : `. ${hint}`}`;
}

function reportFailure<F extends FlagSpecs>(
  command: CommandOptions<F>,
  err: unknown,
  stderr: Writable,
  verbose: boolean,
): void {
  stderr.write(`${formatFailure(command.name, err, command.hints)}\n`);
  if (verbose && err instanceof Error && err.stack !== undefined) stderr.write(`${err.stack}\n`);
}

/** The `--help` text of a command. */
export function formatHelp<F extends FlagSpecs>(command: CommandOptions<F>): string {
  const flags: FlagSpecs = { ...command.flags, ...BUILTIN_FLAGS };
  const rows = Object.entries(flags).map(([name, spec]) => {
    const short = spec.short === undefined ? "    " : `-${spec.short}, `;
    const value =
      spec.type === "string"
        ? ` ${spec.valueName ?? "VALUE"}`
        : spec.words === undefined
          ? ""
          : `[=${spec.words.join("|")}]`;
    const defaultText = defaultTextOf(spec);
    const text =
      defaultText === undefined
        ? spec.description
        : `${spec.description} (default: ${defaultText})`;
    return [`${short}--${name}${value}`, text] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  const lines = [
    `${command.name} — ${command.description}`,
    "",
    "Usage:",
    `  ${command.name} ${command.usage}`,
    "",
    "Options:",
    ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`),
  ];
  if (command.examples !== undefined && command.examples.length > 0) {
    lines.push("", "Examples:", ...command.examples.map((example) => `  ${example}`));
  }
  return `${lines.join("\n")}\n`;
}
