// Builds one app or package (and the packages it uses) through turbo, quietly, then runs one of its
// programs with the remaining arguments: `node scripts/app.mjs apps/tcp-echo server-cli --port 0`.
// Root scripts such as `pnpm tcp:server` call it so a demo never runs stale code.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const [dir, entry, ...rest] = process.argv.slice(2);
// `pnpm tcp:client -- --json` passes the `--` through; the program should not see it.
const args = rest[0] === "--" ? rest.slice(1) : rest;
if (dir === undefined || entry === undefined) {
  console.error("usage: node scripts/app.mjs DIR ENTRY [ARGS...]");
  process.exit(2);
}
const root = fileURLToPath(new URL("..", import.meta.url));

// A cached build takes well under a second; a first build (fresh clone, or after a change) takes
// tens of seconds, so say what is happening instead of sitting silent.
const building = spawn(
  "pnpm",
  ["exec", "turbo", "run", "build", `--filter=./${dir}`, "--output-logs=errors-only"],
  { cwd: root, env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } },
);
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
if (status !== 0) {
  process.stderr.write(output);
  console.error(`building ${dir} failed${failure ? `: ${failure.message}` : ""}`);
  process.exit(1);
}

const child = spawn(process.execPath, [`${root}${dir}/dist/${entry}.js`, ...args], {
  stdio: "inherit",
});
// Ctrl-C reaches the whole process group, so the program sees it itself; SIGTERM sent to this
// wrapper alone is passed on. Either way the wrapper exits with the program's exit code.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
