/**
 * Ctrl-C through pnpm, in a real terminal: `pnpm tcp:server`, Ctrl-C, and Ctrl-C again while
 * the server still waits for its clients. pnpm answers the second Ctrl-C by sending SIGTERM to
 * its script; the script must pass it on and end the way the program does (130), so the shell
 * never prints `Terminated` (143).
 *
 * The terminal is util-linux `script`: what the test writes to its stdin is typed on the
 * terminal, so "\x03" is Ctrl-C and reaches the whole foreground process group, as it does for
 * a person. The shell inside is bash, which prints `Terminated` for a program SIGTERM ends.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { WAIT_MS } from "./_spawn.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The first run builds through turbo, which can take long on a busy machine. */
const START_MS = 120_000;
const CTRL_C = "\x03";

let terminal: ChildProcess | undefined;
const clients: Socket[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
  // Closing the terminal hangs up every process that runs in it.
  terminal?.kill("SIGKILL");
  terminal = undefined;
});

/** Resolves with `promise`, or rejects after `ms`. */
async function bounded<T>(what: string, promise: Promise<T>, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` every 50 ms until it is true, for at most `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("a second Ctrl-C through pnpm exits 130 without 'Terminated'", async () => {
  // --close-timeout: after the first Ctrl-C the server waits for its idle client this long.
  const command =
    'pnpm tcp:server --port 0 --close-timeout 60; status=$?; echo; echo "exit status $status"';
  terminal = spawn(
    "script",
    ["--quiet", "--flush", "--command", `bash -c '${command}'`, "/dev/null"],
    {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let output = "";
  terminal.stdout?.setEncoding("utf8").on("data", (text: string) => (output += text));
  terminal.stderr?.setEncoding("utf8").on("data", (text: string) => (output += text));
  const exited = new Promise<void>((resolve) => terminal?.on("close", () => resolve()));

  await until(
    "the server's first line",
    () => /listening on tcp:\/\/127\.0\.0\.1:\d+/.test(output),
    START_MS,
  );
  const port = Number(/listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  // allowHalfOpen: the client does not answer the server's FIN, so the server keeps waiting.
  const client = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  clients.push(client);
  client.on("error", () => {});
  await bounded("the connection", new Promise((resolve) => client.once("connect", resolve)));
  const ended = new Promise((resolve) => client.once("end", resolve));

  terminal.stdin?.write(CTRL_C);
  // The first Ctrl-C: the server half-closes its client (FIN) and waits for it to hang up.
  await bounded("the server's FIN after the first Ctrl-C", ended);
  expect(output).not.toContain("exit status");

  terminal.stdin?.write(CTRL_C);
  await until("the shell to print the exit status", () => /exit status \d+/.test(output));
  expect(output).toMatch(/exit status 130\b/);
  expect(output).not.toContain("Terminated");
  terminal.stdin?.end();
  await bounded("the terminal to close", exited);
});
