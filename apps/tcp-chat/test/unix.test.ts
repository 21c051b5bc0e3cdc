import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLIENT_CLI, type Program, run, runToEnd, SERVER_CLI, stop, WAIT_MS } from "./_helpers.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "tcp-chat-unix-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "chat.sock");
}

function serve(path: string): Program {
  const program = run(SERVER_CLI, ["--unix", path]);
  cleanup.push(() => stop(program));
  return program;
}

describe("--unix PATH (AF_UNIX)", () => {
  it("the room works over a unix socket file", async () => {
    const path = socketPath();
    const chat = serve(path);
    expect(await chat.stdout.waitFor(() => true, WAIT_MS)).toBe(`listening on unix://${path}`);
    const bob = await runToEnd(CLIENT_CLI, ["--unix", path, "--nick", "bob"], "hi over AF_UNIX\n");
    expect(bob.code).toBe(0);
    expect(bob.stdout.split("\n")).toEqual([
      "* welcome, you are guest1 (1 user online; commands: /nick NAME, /who, /quit)",
      "* guest1 is now bob",
      "* bye",
    ]);
    await chat.stdout.waitFor("<bob> hi over AF_UNIX", WAIT_MS);
  });

  it("a stale file from a SIGKILLed server is replaced, and the server says so", async () => {
    const path = socketPath();
    const killed = run(SERVER_CLI, ["--unix", path]);
    await killed.stdout.waitFor(/^listening on unix:/, WAIT_MS);
    killed.child.kill("SIGKILL");
    await killed.exited;
    const chat = serve(path);
    await chat.stdout.waitFor(/^listening on unix:/, WAIT_MS);
    expect(chat.stdout.lines[0]).toBe(
      `replaced ${path}: a socket file left by a server that is gone (nothing answered on it)`,
    );
  });
});
