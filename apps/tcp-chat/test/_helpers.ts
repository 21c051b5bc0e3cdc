/**
 * Test helpers: a raw node:net line client (what `nc` does), bounded waits, and the built
 * programs spawned as a user runs them.
 */

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";

export const SERVER_CLI = fileURLToPath(new URL("../dist/server-cli.js", import.meta.url));
export const CLIENT_CLI = fileURLToPath(new URL("../dist/client-cli.js", import.meta.url));

/** Longest any single wait may take before the test fails, in ms: generous, for a busy machine. */
export const WAIT_MS = 30_000;

/** Rejects when `promise` has not settled within `ms`, naming what was awaited. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type Match = string | RegExp | ((line: string) => boolean);

function matches(match: Match, line: string): boolean {
  if (typeof match === "string") return line === match;
  if (match instanceof RegExp) return match.test(line);
  return match(line);
}

/** Collects the lines of a stream and waits for particular ones. */
export class LineCollector {
  readonly lines: string[] = [];
  /** Sees each line first; a line it returns true for is consumed, not kept in `lines`. */
  intercept: ((line: string) => boolean) | undefined;
  #partial = "";
  #waiters = new Set<{ match: Match; resolve: (line: string) => void }>();

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const line of parts) this.add(line);
  }

  add(line: string): void {
    if (this.intercept?.(line)) return;
    this.lines.push(line);
    for (const waiter of this.#waiters) {
      if (matches(waiter.match, line)) {
        this.#waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }

  /** The first line ever received that matches, waiting for it up to `ms`. */
  waitFor(match: Match, ms = WAIT_MS): Promise<string> {
    const found = this.lines.find((line) => matches(match, line));
    if (found !== undefined) return Promise.resolve(found);
    let waiter!: { match: Match; resolve: (line: string) => void };
    const promise = new Promise<string>((resolve) => {
      waiter = { match, resolve };
    });
    this.#waiters.add(waiter);
    return within(promise, ms, `a line matching ${String(match)}; got ${this.#tail()}`).finally(
      () => this.#waiters.delete(waiter),
    );
  }

  #tail(): string {
    return JSON.stringify(this.lines.slice(-5));
  }
}

/** A chat client made of a bare socket, speaking the line protocol as `nc` would. */
export class LineClient extends LineCollector {
  readonly socket: Socket;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    super();
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.push(chunk));
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => {}); // resets are part of some tests; 'close' still follows
  }

  static async connect(port: number): Promise<LineClient> {
    const socket = connect({ host: "127.0.0.1", port });
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
      WAIT_MS,
      `connect to 127.0.0.1:${port}`,
    );
    return new LineClient(socket);
  }

  /** Connects, waits for the welcome, and takes the nickname `nick`. */
  static async join(port: number, nick: string): Promise<LineClient> {
    const client = await LineClient.connect(port);
    await client.waitFor(/^\* welcome, you are /);
    client.send(`/nick ${nick}`);
    await client.waitFor(new RegExp(`^\\* \\S+ is now ${nick}$`));
    return client;
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  waitForClose(ms = WAIT_MS): Promise<void> {
    return within(this.closed, ms, "the server to close the connection");
  }
}

/** A spawned program with its stdout and stderr collected line by line. */
export interface Program {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: LineCollector;
  readonly stderr: LineCollector;
  /** Resolves with the exit code once the program has exited and its output is read. */
  readonly exited: Promise<number | null>;
}

/** Runs a built program with node, its stdio piped. */
export function run(script: string, args: readonly string[]): Program {
  const child = spawn(process.execPath, [script, ...args], { stdio: "pipe" });
  const stdout = new LineCollector();
  const stderr = new LineCollector();
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout.push(chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  return { child, stdout, stderr, exited };
}

/** Runs a program to its end (bounded) with `input` on stdin. */
export async function runToEnd(
  script: string,
  args: readonly string[],
  input = "",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const program = run(script, args);
  program.child.stdin.end(input);
  const code = await within(program.exited, WAIT_MS, `${script} ${args.join(" ")} to exit`);
  return {
    code,
    stdout: program.stdout.lines.join("\n"),
    stderr: program.stderr.lines.join("\n"),
  };
}

/** Starts the built chat server on a free port and returns it with that port. */
export async function startServerProgram(
  args: readonly string[] = [],
): Promise<Program & { port: number }> {
  const program = run(SERVER_CLI, ["--port", "0", ...args]);
  const first = await program.stdout.waitFor(() => true, WAIT_MS);
  const port = Number(/^listening on tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(first)?.[1]);
  if (!(port > 0)) throw new Error(`unexpected first line from chat-server: ${first}`);
  return Object.assign(program, { port });
}

/** Ends a program with SIGTERM (if it still runs) and waits for it, bounded. */
export async function stop(program: Program): Promise<number | null> {
  if (program.child.exitCode === null && program.child.signalCode === null) {
    program.child.kill("SIGTERM");
  }
  return within(program.exited, WAIT_MS, "the program to exit");
}
