/**
 * udp-echo-client at a terminal: a `> ` prompt, each typed line sent and its reply printed,
 * until Ctrl-D. Run under a pseudo-terminal made by util-linux `script`.
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test, vi } from "vitest";
import { startServer, stopAll, WAIT_MS } from "./_spawn.js";

afterEach(stopAll);

const CLIENT = fileURLToPath(new URL("../dist/client-cli.js", import.meta.url));

describe("udp-echo-client at a terminal", () => {
  test.each([
    ["datagrams", []],
    ["--reliable", ["--reliable"]],
  ])(
    "%s: prompts, sends each line typed, prints its reply, and ends at Ctrl-D with exit 0",
    async (_mode, flags) => {
      const { port } = await startServer(flags);
      // script: the client's stdin and stdout are a pseudo-terminal; ours are pipes to it.
      const command = [process.execPath, CLIENT, "--port", port, ...flags].join(" ");
      const terminal = spawn("script", ["-qefc", command, "/dev/null"], {
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, TERM: "dumb" },
      });
      let screen = "";
      terminal.stdout.on("data", (chunk: Buffer) => {
        screen += chunk.toString();
      });
      try {
        // The first prompt shows before anything is typed.
        await vi.waitFor(() => expect(screen).toContain("> "), { timeout: WAIT_MS });
        terminal.stdin.write("hello there\n");
        await vi.waitFor(() => expect(screen).toMatch(/hello there\r?\r\nhello there\r\n/), {
          timeout: WAIT_MS,
        });
        // The next prompt comes after the reply.
        await vi.waitFor(() => expect(screen).toMatch(/hello there\r\n[\s\S]*> [\s\S]*$/), {
          timeout: WAIT_MS,
        });
        terminal.stdin.write("second\n");
        await vi.waitFor(() => expect(screen).toMatch(/second\r?\r\nsecond\r\n/), {
          timeout: WAIT_MS,
        });
        const exited = once(terminal, "exit", { signal: AbortSignal.timeout(WAIT_MS) });
        terminal.stdin.write("\x04"); // Ctrl-D: end of input
        const [code] = await exited;
        expect(code).toBe(0);
        // Only the two lines typed went out: no "Hello from client" at a terminal.
        expect(screen).not.toContain("Hello from client");
      } finally {
        terminal.kill();
      }
    },
  );
});
