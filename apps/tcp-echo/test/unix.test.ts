import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { interrupt, run, start, stopAll } from "./_spawn.js";

const dirs: string[] = [];
afterEach(() => {
  stopAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A socket path in a fresh temp dir. */
function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "tcp-echo-unix-"));
  dirs.push(dir);
  return join(dir, "echo.sock");
}

describe("--unix PATH (AF_UNIX, on one machine)", () => {
  test("the server listens on unix:///PATH and the client talks to it there", async () => {
    const path = socketPath();
    const server = start("server-cli", ["--unix", path]);
    await server.line(new RegExp(`^listening on unix://${path}$`));
    const client = await run("client-cli", ["--unix", path, "-m", "over a unix socket"]);
    expect(client).toMatchObject({ code: 0, stdout: "over a unix socket\n", stderr: "" });
    await server.line(/: "over a unix socket"$/);
    expect((await interrupt(server)).code).toBe(0);
  });

  test("a second server on the same path fails, explained, and the first one goes on serving", async () => {
    const path = socketPath();
    const first = start("server-cli", ["--unix", path]);
    await first.line(/^listening on unix:/);
    const second = await run("server-cli", ["--unix", path]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`^tcp-echo-server: address ${path} is already in use.*--unix PATH\\.\\n$`),
    );
    const client = await run("client-cli", ["--unix", path, "-m", "still there"]);
    expect(client).toMatchObject({ code: 0, stdout: "still there\n" });
    expect((await interrupt(first)).code).toBe(0);
  });

  test("a stale file from a SIGKILLed server is replaced, and the server says so", async () => {
    const path = socketPath();
    const killed = start("server-cli", ["--unix", path]);
    await killed.line(/^listening on unix:/);
    killed.child.kill("SIGKILL");
    await killed.exited();
    // The file stays behind: a client is refused, and told how to start a server there.
    const refused = await run("client-cli", ["--unix", path]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Start one with: pnpm tcp:server --unix \S+echo\.sock\n$/);
    const server = start("server-cli", ["--unix", path]);
    await server.line(/^listening on unix:/);
    expect(server.stdout()).toBe(
      `replaced ${path}: a socket file left by a server that is gone (nothing answered on it)\nlistening on unix://${path}\n`,
    );
    expect((await run("client-cli", ["--unix", path, "-m", "new"])).stdout).toBe("new\n");
    expect((await interrupt(server)).code).toBe(0);
  });

  test("a regular file at the path is refused, explained, and left alone", async () => {
    const path = socketPath();
    writeFileSync(path, "not a socket\n");
    const server = await run("server-cli", ["--unix", path]);
    expect(server.code).toBe(1);
    expect(server.stderr).toMatch(new RegExp(`^tcp-echo-server: ${path} is not a socket\\. `));
    expect(readFileSync(path, "utf8")).toBe("not a socket\n");
  });

  test("a path in a directory that does not exist says so, not 'permission denied'", async () => {
    const path = join(socketPath(), "..", "missing", "echo.sock");
    const server = await run("server-cli", ["--unix", path]);
    expect(server.code).toBe(1);
    expect(server.stderr).toMatch(
      new RegExp(`^tcp-echo-server: no directory exists for the socket file ${path}. `),
    );
    expect(server.stderr).toMatch(/create the directory first/);
  });
});
