import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { interrupt, startServer, stopAll, WAIT_MS } from "./_spawn.js";

afterEach(() => stopAll());

const CLIENT = fileURLToPath(new URL("../dist/client-cli.js", import.meta.url));

/** The text a terminal shows, without its cursor moves (readline's `\x1b[1G`, …) and `\r`. */
function plain(screen: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the sequences removed
  return screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
}

/**
 * Runs the client with a pseudo-terminal as stdin and stdout (util-linux `script`), typing each
 * of `lines` once the output shows `ready` for it; then Ctrl-D. Resolves with what the terminal
 * showed and the exit code.
 */
function typeAt(args: string[], steps: { ready: RegExp; type: string }[]) {
  const command = [process.execPath, CLIENT, ...args].map((w) => `'${w}'`).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { stdio: "pipe" });
  let screen = "";
  let step = 0;
  const deadline = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
  return new Promise<{ code: number | null; screen: string }>((resolve) => {
    const advance = () => {
      const next = steps[step];
      if (next?.ready.test(plain(screen))) {
        step += 1;
        child.stdin.write(next.type);
        advance();
      }
    };
    child.stdout.on("data", (chunk: Buffer) => {
      screen += chunk.toString();
      advance();
    });
    child.on("close", (code) => {
      clearTimeout(deadline);
      resolve({ code, screen });
    });
  });
}

describe("tcp-echo-client on a terminal", () => {
  test("prompts, sends each typed line, prints its reply, prompts again; Ctrl-D ends, exit 0", async () => {
    const { server, port } = await startServer(["--reply", "Hello from server"]);
    const { code, screen } = await typeAt(
      ["--port", port],
      [
        { ready: /> $/, type: "first line\r" },
        { ready: /Hello from server\n> $/, type: "second line\r" },
        { ready: /second line\nHello from server\n> $/, type: "\x04" },
      ],
    );
    expect(code).toBe(0);
    // What the terminal showed: the prompt, the typed line (echoed), the server's reply, twice.
    expect(plain(screen)).toMatch(
      /> first line\nHello from server\n> second line\nHello from server\n> /,
    );
    await server.line(/: "first line"$/);
    await server.line(/: "second line"$/);
    expect((await interrupt(server)).code).toBe(0);
  });
});
