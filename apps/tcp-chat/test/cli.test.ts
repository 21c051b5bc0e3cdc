import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_HOST } from "@socket-lab/core";
import { helpDefaults } from "@socket-lab/test-utils/help-defaults";
import { ESCAPED, HOSTILE, hasRawControls, logAccounting } from "@socket-lab/test-utils/peer-text";
import { afterEach, describe, expect, it } from "vitest";
import { CHAT_PORT } from "../src/protocol.js";
import {
  CHAT_IDLE_TIMEOUT_MS,
  CHAT_MAX_CLIENTS,
  CHAT_MAX_LINE_BYTES,
  CHAT_QUEUE_LIMIT_BYTES,
  CHAT_STALL_TIMEOUT_MS,
} from "../src/server.js";
import {
  CLIENT_CLI,
  LineClient,
  type Program,
  run,
  runToEnd,
  SERVER_CLI,
  startServerProgram,
  stop,
  WAIT_MS,
  within,
} from "./_helpers.js";

const programs: Program[] = [];
const sockets: LineClient[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.socket.destroy();
  await Promise.all(programs.splice(0).map((program) => stop(program)));
});

async function server(args: readonly string[] = []) {
  const program = await startServerProgram(args);
  programs.push(program);
  return program;
}

function client(port: number, args: readonly string[] = []): Program {
  const program = run(CLIENT_CLI, ["--port", String(port), ...args]);
  programs.push(program);
  return program;
}

async function rawJoin(port: number, nick: string): Promise<LineClient> {
  const socket = await LineClient.join(port, nick);
  sockets.push(socket);
  return socket;
}

/** A port nothing listens on: bound by the system, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("chat-server", () => {
  it("prints where it listens first, logs the room, and closes cleanly on SIGTERM", async () => {
    const chat = await server();
    expect(chat.stdout.lines[0]).toBe(`listening on tcp://127.0.0.1:${chat.port}`);
    const alice = await rawJoin(chat.port, "alice");
    await chat.stdout.waitFor(/^guest1 joined from 127\.0\.0\.1:\d+$/);
    await chat.stdout.waitFor("guest1 is now alice");
    alice.send("/quit");
    await chat.stdout.waitFor("alice left (quit)");

    const bob = await rawJoin(chat.port, "bob");
    expect(await stop(chat)).toBe(0);
    await bob.waitFor("* server shutting down");
    await bob.waitForClose();
    expect(chat.stdout.lines.at(-1)).toBe("closed");
    expect(chat.stderr.lines).toEqual([]);
  });

  it("applies --max-clients, --max-line, --idle-timeout and --queue-limit", async () => {
    const chat = await server([
      "--max-clients",
      "2",
      "--max-line",
      "10",
      "--idle-timeout",
      "0.5",
      "--queue-limit",
      "2000",
    ]);
    const alice = await rawJoin(chat.port, "alice");
    const bob = await rawJoin(chat.port, "bob");
    const carol = await LineClient.connect(chat.port);
    sockets.push(carol);
    await carol.waitFor("! error: server is full (2 users); try again later");
    await carol.waitForClose();
    await chat.stdout.waitFor(/^refused 127\.0\.0\.1:\d+: the room is full$/);

    alice.send("0123456789A");
    await alice.waitFor("! error: line of 11 bytes is over the limit of 10; not sent");
    alice.send("0123456789");
    await bob.waitFor("<alice> 0123456789");

    // alice spoke last, so bob's half second runs out first.
    await bob.waitFor("! error: idle for 500 ms; disconnecting");
    await bob.waitForClose();
    await alice.waitFor("* bob left (idle)");
  });

  it("traces the socket calls on stderr with --trace", async () => {
    const chat = await server(["--trace"]);
    await rawJoin(chat.port, "alice");
    await chat.stderr.waitFor(/^listen\(\d+, \d+\)$/);
    await chat.stderr.waitFor(/^accept\(\d+\) = \d+ \(127\.0\.0\.1:\d+\)$/);
    await chat.stderr.waitFor(/^recv\(\d+\) = \d+$/);
  });

  it("prints --help and --version", async () => {
    const help = await runToEnd(SERVER_CLI, ["--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--host", "--port", "--max-clients", "--max-line", "--idle-timeout"]) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain("--queue-limit BYTES");
    // Every default shown is the constant the server applies.
    expect(helpDefaults(help.stdout)).toEqual({
      host: DEFAULT_HOST,
      port: String(CHAT_PORT),
      "max-clients": String(CHAT_MAX_CLIENTS),
      "max-line": String(CHAT_MAX_LINE_BYTES),
      "idle-timeout": String(CHAT_IDLE_TIMEOUT_MS / 1000),
      "queue-limit": String(CHAT_QUEUE_LIMIT_BYTES),
      "stall-timeout": String(CHAT_STALL_TIMEOUT_MS / 1000),
    });
    const version = await runToEnd(SERVER_CLI, ["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: "chat-server 0.1.0" });
  });

  it.each([
    [["--port", "70000"], "chat-server: --port: 70000 is out of range (0–65535)"],
    [["--max-clients", "0"], "chat-server: --max-clients: 0 is out of range (1–100000)"],
    [["--max-line", "big"], "chat-server: --max-line: 'big' is not a whole number"],
    [["--idle-timeout=-1"], "chat-server: --idle-timeout: -1 is out of range (0–86400)"],
    [
      ["--queue-limit", "100"],
      "chat-server: --queue-limit: 100 bytes cannot hold one line of --max-line (at least 1088)",
    ],
    [
      ["--host", "999.1.1.1"],
      "chat-server: --host: '999.1.1.1' is not a valid host name or IP address",
    ],
    [["--colour"], "chat-server: Unknown option '--colour'"],
  ])("rejects %j with a usage error (exit 2)", async (args, message) => {
    const result = await runToEnd(SERVER_CLI, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.endsWith("\nRun 'chat-server --help' for usage.")).toBe(true);
  });
});

describe("chat-client", () => {
  it("with piped stdin sends each line, prints the room, and leaves with /quit at the end", async () => {
    const chat = await server();
    const alice = client(chat.port, ["--nick", "alice"]); // its stdin stays open
    await alice.stdout.waitFor("* guest1 is now alice");

    const bob = await runToEnd(
      CLIENT_CLI,
      ["--port", String(chat.port), "--nick", "bob"],
      "hello from bob\n/who\n",
    );
    expect(bob.code).toBe(0);
    expect(bob.stderr).toBe("");
    expect(bob.stdout.split("\n")).toEqual([
      "* welcome, you are guest2 (2 users online; commands: /nick NAME, /who, /quit)",
      "* guest2 is now bob",
      "* users: alice, bob",
      "* bye",
    ]);
    await alice.stdout.waitFor("<bob> hello from bob");
    await alice.stdout.waitFor("* bob left");
    expect(alice.stdout.lines).toEqual([
      "* welcome, you are guest1 (1 user online; commands: /nick NAME, /who, /quit)",
      "* guest1 is now alice",
      "* guest2 joined",
      "* guest2 is now bob",
      "<bob> hello from bob",
      "* bob left",
    ]);
  });

  it("does not send a line too long for the framing, says so, and goes on", async () => {
    const chat = await server();
    const alice = await rawJoin(chat.port, "alice");
    const input = `${"x".repeat(70_000)}\nstill here\n`;
    const bob = await runToEnd(CLIENT_CLI, ["--port", String(chat.port), "--nick", "bob"], input);
    expect(bob.code).toBe(0);
    expect(bob.stdout).toContain(
      "! not sent: line of 70,000 bytes exceeds the limit of 65,536 bytes",
    );
    await alice.waitFor("<bob> still here");
    expect(alice.lines.filter((line) => line.startsWith("<bob>"))).toEqual(["<bob> still here"]);
  });

  it("says the server closed the connection, and exits 1, when the server goes away", async () => {
    const chat = await server();
    const alice = client(chat.port, ["--nick", "alice"]);
    await alice.stdout.waitFor("* guest1 is now alice");
    await stop(chat);
    expect(await within(alice.exited, WAIT_MS, "the client to exit")).toBe(1);
    expect(alice.stdout.lines.at(-1)).toBe("* server shutting down");
    expect(alice.stderr.lines).toEqual(["chat-client: the server closed the connection"]);
  });

  it("explains a refused connection with a hint to start the server, and exits 1", async () => {
    const port = await closedPort();
    const result = await runToEnd(CLIENT_CLI, ["--port", String(port)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `chat-client: connection refused by 127.0.0.1:${port} — no server is listening there. Start one with: pnpm chat:server`,
    );
  });

  it("traces connect on stderr with --trace", async () => {
    const chat = await server();
    const result = await runToEnd(CLIENT_CLI, ["--port", String(chat.port), "--trace"], "");
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(`^connect\\(\\d+, 127\\.0\\.0\\.1:${chat.port}\\)$`, "m"),
    );
    expect(result.stdout).toContain("* bye");
  });

  it.each([
    [
      ["--nick", "no spaces"],
      "chat-client: --nick: 'no spaces' is not a valid nickname (1–16 letters, digits, '_' or '-', starting with a letter)",
    ],
    [["--port", "seven"], "chat-client: --port: 'seven' is not a port number (0–65535)"],
    [["extra"], "chat-client: unexpected argument 'extra'"],
  ])("rejects %j with a usage error (exit 2)", async (args, message) => {
    const result = await runToEnd(CLIENT_CLI, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`${message}\nRun 'chat-client --help' for usage.`);
  });

  it("prints --help and --version", async () => {
    const help = await runToEnd(CLIENT_CLI, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--nick NAME");
    expect(helpDefaults(help.stdout)).toEqual({
      host: DEFAULT_HOST,
      port: String(CHAT_PORT),
      nick: "guestN, given by the server",
    });
    const version = await runToEnd(CLIENT_CLI, ["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: "chat-client 0.1.0" });
  });
});

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

describe("chat-client on a terminal", () => {
  // tmux gives the client a real terminal (a pty): readline runs with its prompt and raw keys.
  it.skipIf(!hasTmux)(
    "prints an incoming line above the prompt and keeps the half-typed input (needs tmux)",
    async () => {
      const chat = await server();
      // A tmux server of our own, on a socket in a fresh temporary directory.
      const dir = mkdtempSync(join(tmpdir(), "tcp-chat-tmux-"));
      const tmux = (...args: string[]) => {
        const result = spawnSync("tmux", ["-S", join(dir, "tmux.sock"), ...args], {
          encoding: "utf8",
        });
        if (result.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr}`);
        return result.stdout;
      };
      /** Polls the pane (bounded) until `check` accepts its lines. */
      const screenUntil = async (check: (lines: string[]) => boolean, what: string) => {
        let lines: string[] = [];
        for (let attempt = 0; attempt < 100; attempt++) {
          lines = tmux("capture-pane", "-p", "-t", "chat").trimEnd().split("\n");
          if (check(lines)) return lines;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw new Error(`the screen never showed ${what}:\n${lines.join("\n")}`);
      };

      tmux(
        "new-session",
        "-d",
        "-s",
        "chat",
        "-x",
        "100",
        "-y",
        "20",
        `${process.execPath} ${CLIENT_CLI} --port ${chat.port} --nick alice`,
      );
      try {
        await screenUntil((lines) => lines.includes("* guest1 is now alice"), "the rename");
        const bob = await rawJoin(chat.port, "bob");

        tmux("send-keys", "-t", "chat", "-l", "half typed"); // no Enter
        await screenUntil((lines) => lines.at(-1) === "> half typed", "the typed text");
        bob.send("hello alice");
        const screen = await screenUntil(
          (lines) => lines.includes("<bob> hello alice"),
          "bob's message",
        );
        expect(screen.slice(-2)).toEqual(["<bob> hello alice", "> half typed"]);

        tmux("send-keys", "-t", "chat", " and done", "Enter");
        await bob.waitFor("<alice> half typed and done");
      } finally {
        tmux("kill-server");
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe("chat output", () => {
  it("stdout closed after the first line (`chat-server | head -1`): the room goes on, stderr says so once, exit 0", async () => {
    const chat = await server();
    chat.child.stdout.destroy();
    const alice = await rawJoin(chat.port, "alice");
    const bob = await rawJoin(chat.port, "bob");
    alice.send("still here");
    await bob.waitFor("<alice> still here");
    expect(await stop(chat)).toBe(0);
    expect(chat.stderr.lines).toEqual([
      "chat-server: stdout closed (EPIPE); serving on without printing",
    ]);
  });

  it("a flood of 20,000 lines from one member: a bounded number of log lines, a summary that counts the rest", async () => {
    const LINES = 20_000;
    const chat = await server();
    const alice = await rawJoin(chat.port, "alice");
    alice.socket.write("x\n".repeat(LINES));
    alice.send("/quit");
    await chat.stdout.waitFor("alice left (quit)", 30_000);
    expect(await stop(chat)).toBe(0);
    const { shown, notShown } = logAccounting(chat.stdout.lines, "alice", "<alice> x");
    expect(shown + notShown).toBe(LINES);
    expect(shown).toBeLessThan(LINES / 20);
    expect(chat.stdout.lines.length).toBeLessThan(LINES / 20);
  });

  it("escape sequences, C1 controls, bidi overrides and U+2028 reach members (nc and chat-client) and the log escaped", async () => {
    const chat = await server();
    const nc = await rawJoin(chat.port, "bob");
    const carol = client(chat.port, ["--nick", "carol"]);
    await carol.stdout.waitFor("* guest2 is now carol");
    const mallory = await rawJoin(chat.port, "mallory");
    mallory.send(HOSTILE);
    mallory.send(`hi${" ".repeat(72)}* alice left`);
    const padded = "<mallory> hi\\x20×72* alice left";
    await nc.waitFor(padded);
    expect(nc.lines).toContain(`<mallory> ${ESCAPED}`);
    await carol.stdout.waitFor(padded);
    expect(carol.stdout.lines).toContain(`<mallory> ${ESCAPED}`);
    await chat.stdout.waitFor(padded);
    expect(chat.stdout.lines).toContain(`<mallory> ${ESCAPED}`);
    for (const lines of [nc.lines, carol.stdout.lines, chat.stdout.lines]) {
      expect(hasRawControls(lines.join("\n"))).toBe(false);
    }
  });

  it("chat-client escapes what a server sends even when the server does not", async () => {
    // A server that passes a line on raw, as an old or hostile chat server would.
    const raw = createServer((socket) => {
      socket.on("error", () => {});
      socket.end(`<mallory> ${HOSTILE}\n`);
    });
    raw.listen(0, "127.0.0.1");
    await once(raw, "listening");
    try {
      const address = raw.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      const result = await runToEnd(CLIENT_CLI, ["--port", String(address.port)]);
      expect(result.stdout).toBe(`<mallory> ${ESCAPED}`);
      expect(hasRawControls(result.stdout)).toBe(false);
    } finally {
      raw.close();
    }
  });
});
