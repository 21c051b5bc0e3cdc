// Builds one app or package (and the packages it uses) through turbo, quietly, then runs one of its
// programs with the remaining arguments: `node scripts/app.mjs apps/tcp-echo server-cli --port 0`.
// Root scripts such as `pnpm tcp:server` call it so a demo never runs stale code.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [dir, entry, ...rest] = process.argv.slice(2);
// `pnpm tcp:client -- --json` passes the `--` through; the program should not see it.
const args = rest[0] === "--" ? rest.slice(1) : rest;
if (dir === undefined || entry === undefined) {
  console.error("usage: node scripts/app.mjs DIR ENTRY [ARGS...]");
  process.exit(2);
}
const root = fileURLToPath(new URL("..", import.meta.url));

const build = spawnSync(
  "pnpm",
  ["exec", "turbo", "run", "build", `--filter=./${dir}`, "--output-logs=errors-only"],
  { cwd: root, encoding: "utf8", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } },
);
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ""}${build.stderr ?? ""}`);
  console.error(`building ${dir} failed${build.error ? `: ${build.error.message}` : ""}`);
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
