/**
 * Shared by the apps' tests: runs a built program the way a user does,
 * `node dist/<entry>.js ...args`, with real stdin, stdout, stderr and exit codes. Build first
 * (`pnpm build`; turbo builds an app before its `test`). Every wait is bounded; `stopAll()`
 * kills whatever a test left running.
 *
 * @example Fragment: a test file of an app
 * // apps/<app>/test/_spawn.ts
 * export const { start, run, startServer, interrupt, stopAll } =
 *   createPrograms(new URL("../dist/", import.meta.url));
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Longest any single wait may take before the test fails, in ms. */
export const WAIT_MS = 30_000;

/**
 * Settles as `promise` does, or rejects with an Error whose message is `failure` (called then,
 * so it may describe what was seen so far) once WAIT_MS have passed.
 */
export function within<T>(promise: Promise<T>, failure: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(typeof failure === "string" ? `${failure} within ${WAIT_MS} ms` : failure()),
      );
    }, WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How a program ended, with everything it printed. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running program. */
export interface Program {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the `nth` stdout line matching `pattern` (already printed or to come). */
  line(pattern: RegExp, nth?: number): Promise<string>;
  /** Resolves when the program exits; rejects if it is still running after WAIT_MS. */
  exited(): Promise<Exit>;
}

export interface StartOptions {
  /** Text written to stdin, then stdin is closed; "ignore" gives the program /dev/null. @default "" */
  stdin?: string | "ignore";
}

/** The programs of one app: everything below runs `<dist>/<entry>.js`. */
export function createPrograms(distUrl: URL) {
  const dist = fileURLToPath(distUrl);
  const running = new Set<ChildProcess>();

  /** Starts `node dist/<entry>.js ...args`. */
  function start(entry: string, args: readonly string[], options: StartOptions = {}): Program {
    const file = `${dist}${entry}.js`;
    if (!existsSync(file)) throw new Error(`${file} is missing: run 'pnpm build' first`);
    const stdin = options.stdin ?? "";
    const child = spawn(process.execPath, [file, ...args], {
      stdio: [stdin === "ignore" ? "ignore" : "pipe", "pipe", "pipe"],
    });
    running.add(child);
    let out = "";
    let err = "";
    const watchers = new Set<() => void>();
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      for (const watcher of watchers) watcher();
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
    });
    const exit = new Promise<Exit>((resolve) => {
      child.on("close", (code, signal) => {
        running.delete(child);
        for (const watcher of watchers) watcher();
        resolve({ code, signal, stdout: out, stderr: err });
      });
    });
    if (child.stdin !== null) {
      child.stdin.on("error", () => {}); // the program may exit before reading it all
      child.stdin.end(stdin);
    }

    const bounded = <T>(promise: Promise<T>, what: string): Promise<T> =>
      within(promise, () => `${entry} ${args.join(" ")}: ${what} within ${WAIT_MS} ms\n${err}`);

    return {
      child,
      stdout: () => out,
      stderr: () => err,
      line(pattern, nth = 1) {
        return bounded(
          new Promise<string>((resolve, reject) => {
            const check = () => {
              // Whole lines only: the last piece may still be growing.
              const found = out
                .split("\n")
                .slice(0, -1)
                .filter((line) => pattern.test(line))[nth - 1];
              if (found !== undefined) {
                watchers.delete(check);
                resolve(found);
              } else if (child.exitCode !== null || child.signalCode !== null) {
                watchers.delete(check);
                reject(new Error(`exited without printing ${pattern}:\n${out}\n${err}`));
              }
            };
            watchers.add(check);
            check();
          }),
          `no line matching ${pattern}`,
        );
      },
      exited: () => bounded(exit, "did not exit"),
    };
  }

  /** Runs a program to its end. */
  function run(entry: string, args: readonly string[], options?: StartOptions): Promise<Exit> {
    return start(entry, args, options).exited();
  }

  /** Starts a server on a free port (`--port 0`) and reads the port from its first line. */
  async function startServer(
    args: readonly string[] = [],
  ): Promise<{ server: Program; port: string }> {
    const server = start("server-cli", ["--port", "0", ...args]);
    const first = await server.line(/./);
    const port = /:(\d+)"?\}?$/.exec(first)?.[1];
    if (port === undefined) throw new Error(`no port in the first line: ${first}`);
    return { server, port };
  }

  /** Stops a server the way Ctrl-C does and waits for it to exit. */
  function interrupt(program: Program): Promise<Exit> {
    program.child.kill("SIGINT");
    return program.exited();
  }

  /** Kills every program a test left running. */
  function stopAll(): void {
    for (const child of running) child.kill("SIGKILL");
    running.clear();
  }

  return { start, run, startServer, interrupt, stopAll };
}

/**
 * Checks that `lines` contain a line matching each pattern, in this order (other lines may
 * come between), and returns the lines matched.
 */
export function inOrder(lines: readonly string[], patterns: readonly RegExp[]): string[] {
  const matched: string[] = [];
  let from = 0;
  for (const pattern of patterns) {
    const index = lines.findIndex((line, i) => i >= from && pattern.test(line));
    if (index === -1) {
      throw new Error(`no ${pattern} after line ${from} in:\n${lines.join("\n")}`);
    }
    matched.push(lines[index] as string);
    from = index + 1;
  }
  return matched;
}
