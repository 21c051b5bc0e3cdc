// Builds one app or package (and the packages it uses) through turbo, quietly, then runs one of its
// programs with the remaining arguments: `node scripts/app.mjs apps/tcp-echo server-cli --port 0`.
// Root scripts such as `pnpm tcp:server` call it so a demo never runs stale code.
//
// Signals: Ctrl-C reaches the terminal's whole foreground process group, so turbo, then the
// program, sees it itself; this wrapper only notes it. pnpm answers a second Ctrl-C by sending
// SIGTERM to its script's shell, and exits the way that shell ended: a shell killed by SIGTERM
// makes the user's shell print `Terminated` (exit 143). So the root scripts `exec` this wrapper
// (it *is* the script's process), it passes SIGTERM on to the program, and it exits with the
// program's own code: 130 after a second Ctrl-C.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const [dir, entry, ...rest] = process.argv.slice(2);
// `pnpm tcp:client -- --json` passes the `--` through; the program should not see it.
const args = rest[0] === "--" ? rest.slice(1) : rest;
if (dir === undefined || entry === undefined) {
  console.error("usage: node scripts/app.mjs DIR ENTRY [ARGS...]");
  process.exit(2);
}
const root = fileURLToPath(new URL("..", import.meta.url));

/** The process running now: the build, then the program. */
let current;
let interrupted = false;
let terminated = false;
/** The exit code for a stop by signal: 130 once Ctrl-C was pressed, as the programs use. */
const stoppedCode = () => (interrupted ? 130 : 143);
process.on("SIGINT", () => {
  interrupted = true;
});
process.on("SIGTERM", () => {
  terminated = true;
  if (current === undefined || current.exitCode !== null || current.signalCode !== null) {
    process.exit(stoppedCode());
  }
  current.kill("SIGTERM");
});

// A cached build takes well under a second; a first build (fresh clone, or after a change) takes
// tens of seconds, so say what is happening instead of sitting silent.
const building = spawn(
  "pnpm",
  ["exec", "turbo", "run", "build", `--filter=./${dir}`, "--output-logs=errors-only"],
  { cwd: root, env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } },
);
current = building;
let output = "";
building.stdout.setEncoding("utf8").on("data", (text) => (output += text));
building.stderr.setEncoding("utf8").on("data", (text) => (output += text));
const notice = setTimeout(() => {
  console.error(`building ${dir} and the packages it uses (first run, or after a change)…`);
}, 1_000);
const [status, failure] = await new Promise((resolve) => {
  building.on("error", (error) => resolve([1, error]));
  building.on("close", (code) => resolve([code, undefined]));
});
clearTimeout(notice);
// Stopped while building: say nothing more, start nothing.
if (interrupted || terminated) process.exit(stoppedCode());
if (status !== 0) {
  process.stderr.write(output);
  console.error(`building ${dir} failed${failure ? `: ${failure.message}` : ""}`);
  process.exit(1);
}

const child = spawn(process.execPath, [`${root}${dir}/dist/${entry}.js`, ...args], {
  stdio: "inherit",
});
current = child;
child.on("exit", (code, signal) => {
  process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
});
