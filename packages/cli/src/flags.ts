/**
 * Flags: what a flag is (`FlagSpec`), the parsers that check a value and name the flag in a
 * `UsageError`, and the flags every socket-lab app shares (`--host`, `--port`, `--trace`,
 * `--json`), so that tcp-echo and udp-echo read the same and differ only where streams and
 * datagrams do.
 */

import { isIPv6 } from "node:net";
import type { Writable } from "node:stream";
import {
  DEFAULT_HOST,
  isValidHost,
  type MermaidTraceOptions,
  mermaidTraceTo,
  parsePort,
  type TraceListener,
  traceTo,
} from "@socket-lab/core";

/** A command-line mistake; printed with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * One flag of a command. A string flag may carry its parser and its default, so that the value
 * `run` sees is already checked and each default is written once, where `--help` shows it too.
 */
export interface FlagSpec<T = unknown> {
  readonly type: "string" | "boolean";
  /** One-letter alias, e.g. `p` for `-p`. */
  readonly short?: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Placeholder for the value in `--help`, e.g. `N`, `TEXT`. @default "VALUE" */
  readonly valueName?: string;
  /**
   * Shown in `--help` as "(default: …)", for a default the program applies itself (e.g. when it
   * depends on other flags, or when the program must tell an absent flag from a given one: then
   * the spec has no `default`, and this text is computed from the constant the program applies)
   * or one `default` would print badly (milliseconds shown as seconds).
   * @default String(default), when `default` is given
   */
  readonly defaultText?: string;
  /**
   * For a boolean flag: words it may also be given as `--flag=WORD` (`--trace=mermaid`); its
   * value is then that word instead of `true`. @default none
   */
  readonly words?: readonly string[];
  /**
   * For a string flag: checks the text given and returns the value `run` sees, or throws a
   * {@link UsageError} naming the flag (exit 2, before `run`); `flag` is the long name, so the
   * `parse…Flag` functions fit as they are: `parse: parsePortFlag`. @default none: `run` sees the text
   */
  readonly parse?: (flag: string, value: string) => T;
  /** For a string flag: the value `run` sees when the flag is absent. @default undefined */
  readonly default?: T;
}

/** The flags of a command, by long name. */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** What a string flag's parser returns: the text itself without one. */
type ParsedValue<S> = S extends { readonly parse: (flag: string, value: string) => infer T }
  ? T
  : string;

/**
 * Parsed flag values: booleans are `true`/`false` (or a word); a string flag is its parsed value,
 * its `default` when absent, or `undefined` when absent without one.
 */
export type FlagValues<F extends FlagSpecs> = {
  -readonly [K in keyof F]: F[K]["type"] extends "boolean"
    ? F[K] extends { readonly words: readonly (infer W)[] }
      ? boolean | W
      : boolean
    : F[K] extends { readonly default: unknown }
      ? ParsedValue<F[K]>
      : ParsedValue<F[K]> | undefined;
};

/**
 * The value `run` sees for one flag: `given` parsed, or the default when it is absent.
 * @throws {UsageError} from the flag's parser.
 */
export function flagValue(name: string, spec: FlagSpec, given: unknown): unknown {
  if (spec.type === "boolean") return given ?? false;
  if (given === undefined) return spec.default;
  return spec.parse === undefined ? given : spec.parse(name, String(given));
}

/** What `--help` shows as a flag's default, if anything. */
export function defaultTextOf(spec: FlagSpec): string | undefined {
  return spec.defaultText ?? (spec.default === undefined ? undefined : String(spec.default));
}

/** Limits for {@link parseIntegerFlag}. */
export interface IntegerRange {
  /** @default 0 */
  min?: number;
  /** @default Number.MAX_SAFE_INTEGER */
  max?: number;
}

/**
 * Parses a whole-number flag value.
 * @throws {UsageError} naming the flag, e.g. `--count: 'abc' is not a whole number`.
 */
export function parseIntegerFlag(flag: string, value: string, range: IntegerRange = {}): number {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  if (!/^-?\d+$/.test(value.trim()))
    throw new UsageError(`--${flag}: '${value}' is not a whole number`);
  const number = Number(value);
  if (number < min || number > max) {
    throw new UsageError(`--${flag}: ${value} is out of range (${min}–${max})`);
  }
  return number;
}

/**
 * Parses a decimal flag value within a range, e.g. a rate from 0 to 1.
 * @throws {UsageError} naming the flag.
 */
export function parseNumberFlag(
  flag: string,
  value: string,
  range: { min: number; max: number },
): number {
  const number = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(number)) throw new UsageError(`--${flag}: '${value}' is not a number`);
  if (number < range.min || number > range.max) {
    throw new UsageError(`--${flag}: ${value} is out of range (${range.min}–${range.max})`);
  }
  return number;
}

/**
 * Parses a rate flag: a share from 0 to 1, such as netsim's loss.
 * @throws {UsageError} naming the flag, e.g. `--loss: 2 is out of range (0–1)`.
 * @example
 * parseRateFlag("loss", "0.05") //=> 0.05
 */
export function parseRateFlag(flag: string, value: string): number {
  return parseNumberFlag(flag, value, { min: 0, max: 1 });
}

/**
 * Parses a port flag: 0–65535.
 * @throws {UsageError} `--port: '70000' is out of range (0–65535)`.
 */
export function parsePortFlag(flag: string, value: string): number {
  try {
    return parsePort(value.trim());
  } catch {
    throw new UsageError(
      /^\d+$/.test(value.trim())
        ? `--${flag}: ${value} is out of range (0–65535)`
        : `--${flag}: '${value}' is not a port number (0–65535)`,
    );
  }
}

/**
 * Checks a host flag or argument: a host name or an IP address (IPv6 without brackets or with).
 * @throws {UsageError} naming the flag.
 */
export function parseHostFlag(flag: string, value: string): string {
  const bracketed = value.startsWith("[") && value.endsWith("]");
  const host = bracketed ? value.slice(1, -1) : value;
  if (bracketed && !isIPv6(host)) {
    throw new UsageError(`--${flag}: '${value}' has brackets but '${host}' is not an IPv6 address`);
  }
  if (!isValidHost(host))
    throw new UsageError(`--${flag}: '${value}' is not a valid host name or IP address`);
  return host;
}

/**
 * Parses a flag that takes one of a few words.
 * @throws {UsageError} naming the flag and the choices, e.g. `--framing: 'json' is not one of lines, length`.
 */
export function parseChoiceFlag<const C extends string>(
  flag: string,
  value: string,
  choices: readonly C[],
): C {
  const choice = choices.find((c) => c === value);
  if (choice === undefined) {
    throw new UsageError(`--${flag}: '${value}' is not one of ${choices.join(", ")}`);
  }
  return choice;
}

/**
 * Parses a duration flag given in seconds (decimals allowed) and returns whole milliseconds.
 * A duration above 0 is at least 1 ms, so it never rounds to 0, which options read as "off".
 * @throws {UsageError} naming the flag, e.g. `--timeout: 'soon' is not a number`.
 * @example
 * parseSecondsFlag("timeout", "0.25", { min: 0.001, max: 3600 }) //=> 250
 */
export function parseSecondsFlag(
  flag: string,
  value: string,
  range: { min: number; max: number },
): number {
  const seconds = parseNumberFlag(flag, value, range);
  return seconds > 0 ? Math.max(1, Math.round(seconds * 1000)) : 0;
}

/**
 * Checks a text flag that is sent as one message: a line, so it must not contain a line break.
 * @throws {UsageError} naming the flag.
 */
export function parseLineFlag(flag: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new UsageError(`--${flag}: must be one line (no line breaks)`);
  return value;
}

/** `--host HOST`: where a server binds or a client sends; loopback unless asked. */
export const HOST_FLAG = {
  type: "string",
  valueName: "HOST",
  description: "the address a server binds, or a client talks to: a host name or an IP",
  defaultText: DEFAULT_HOST,
  parse: parseHostFlag,
} as const satisfies FlagSpec<string>;

/**
 * `--port N` (`-p N`) with the app's default port.
 * @example
 * portFlag(7000).defaultText //=> "7000"
 */
export function portFlag(defaultPort: number) {
  return {
    type: "string",
    short: "p",
    valueName: "N",
    description: "port, 0–65535; 0 lets the system choose a free one for a server",
    defaultText: String(defaultPort),
    parse: parsePortFlag,
  } as const satisfies FlagSpec<number>;
}

/** `--trace`: the socket story on stderr, as lines or (`--trace=mermaid`) a sequence diagram. */
export const TRACE_FLAG = {
  type: "boolean",
  words: ["text", "mermaid"],
  description:
    "print each socket call to stderr as strace names it (socket, bind, listen, accept, connect, send, recv, shutdown, close, with the fds); =mermaid: as a mermaid sequence diagram",
} as const satisfies FlagSpec;

/** `--json`: data as one JSON object per line. */
export const JSON_FLAG = {
  type: "boolean",
  description: "print data as JSON, one object per line",
} as const satisfies FlagSpec;

/**
 * The trace listener for `--trace`: each socket call as one line on `stderr`; with
 * `--trace=mermaid`, a mermaid sequence diagram on `stderr` in which this program is `who`;
 * none without the flag.
 * @example
 * const who = { role: "server", name: "tcp-echo-server" } as const;
 * traceFlag(false, process.stderr, who) //=> undefined
 * const trace = traceFlag(true, process.stderr, who); // an app: traceFlag(values.trace, …)
 * trace?.({ type: "listen", backlog: 5, fd: 3 }); // "listen(3, 5)" on stderr
 * // then: await listen(endpoint, { trace });
 */
export function traceFlag(
  value: boolean | "text" | "mermaid",
  stderr: Writable,
  who: MermaidTraceOptions,
): TraceListener | undefined {
  const write = (line: string) => stderr.write(`${line}\n`);
  if (value === "mermaid") return mermaidTraceTo(write, who);
  return value === false ? undefined : traceTo(write);
}
