/**
 * What tcp-echo shows of its peers' data, and what its output can do to it: message lines are
 * escaped previews, rate-limited with a summary; a stdout whose reader went away is not fatal.
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  ESCAPED,
  HOSTILE,
  hasRawControls,
  logAccounting,
  messageRecords,
} from "@socket-lab/test-utils/peer-text";
import { afterEach, describe, expect, test } from "vitest";
import { interrupt, run, startServer, stopAll, within } from "./_spawn.js";

afterEach(stopAll);

/** A raw TCP socket to the server, as nc would open; replies are read and thrown away. */
async function rawSocket(port: string): Promise<Socket> {
  const socket = connect(Number(port), "127.0.0.1");
  await once(socket, "connect");
  socket.resume();
  return socket;
}

const LISTENING = /listening on tcp:\/\/127\.0\.0\.1:(\d+)/;

/** Resolves with the first match of `pattern` in `text()`, now or after a `data` event of `stream`. */
function matchIn(stream: Readable, text: () => string, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve) => {
    const check = () => {
      const match = pattern.exec(text());
      if (match === null) return;
      stream.off("data", check);
      resolve(match);
    };
    stream.on("data", check);
    check();
  });
}

/** Connects, and hangs up as soon as connected; false if not connected within WAIT_MS. */
async function connectAndLeave(port: number): Promise<boolean> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  try {
    return await within(
      once(socket, "connect").then(() => true),
      "no connection",
    ).catch(() => false);
  } finally {
    socket.destroy();
  }
}

describe("tcp-echo output", () => {
  test("a flood of 100,000 empty lines: a bounded number of message lines and a summary that counts the rest; another client is answered", async () => {
    const MESSAGES = 100_000;
    const { server, port } = await startServer();
    const flood = await rawSocket(port);
    const source = `127.0.0.1:${flood.localPort}`;
    flood.end("\n".repeat(MESSAGES));
    // Meanwhile a well-behaved client is answered.
    expect(await run("client-cli", ["--port", port, "-m", "hello"])).toMatchObject({
      code: 0,
      stdout: "hello\n",
    });
    await server.line(new RegExp(`^${source} disconnected after 100000 messages$`));
    const stopped = await interrupt(server);
    const lines = stopped.stdout.trimEnd().split("\n");
    const { shown, notShown } = logAccounting(lines, source, `${source}: ""`);
    // Every message is accounted for: shown, or counted in a summary line.
    expect(shown + notShown).toBe(MESSAGES);
    // 10 lines a second per client: far below one line per message, on any machine.
    expect(shown).toBeLessThan(MESSAGES / 100);
    expect(lines.length).toBeLessThan(MESSAGES / 100);
    expect(lines.at(-1)).toBe("stopped: 2 connections, 100001 messages");
  });

  test("a terminal that stops reading (Ctrl-S): clients are still answered and Ctrl-C still stops the server", async () => {
    // script(1) runs the server on a terminal of its own (a pty) and copies what it prints to us.
    // Once we stop reading, script stops reading the terminal, and the terminal stops taking
    // the server's output: Node writes a terminal synchronously, so a write(2) would block.
    const server = fileURLToPath(new URL("../dist/server-cli.js", import.meta.url));
    // script runs the command with $SHELL -c; exec makes the server script's own child, whatever
    // the shell (dash, /bin/sh on Debian, would otherwise stay in between and take the SIGINT).
    const command = `exec '${process.execPath}' '${server}' --port 0 --max-connections 1 --backlog 511`;
    const terminal = spawn("script", ["-qfec", command, "/dev/null"], {
      env: { ...process.env, SHELL: "/bin/sh" },
    });
    try {
      let printed = "";
      terminal.stdout.setEncoding("utf8");
      terminal.stdout.on("data", (chunk: string) => {
        printed += chunk;
      });
      const port = Number(
        (
          await within(
            matchIn(terminal.stdout, () => printed, LISTENING),
            () => `no port in ${printed}`,
          )
        )[1],
      );
      terminal.stdout.pause();
      const held = await rawSocket(String(port));
      held.on("error", () => {}); // a failing run kills the server under it: a reset, not news
      // Each connection past --max-connections costs one line of ~80 bytes and no waiting:
      // 6,000 of them are far more than the pipe, script, the pty and the log's queue hold
      // (about 270 KB). They go 50 at a time, so a busy machine's scheduling delays overlap.
      const deadline = Date.now() + 60_000;
      let accepted = 0;
      for (let batch = 0; batch < 120 && Date.now() < deadline; batch += 1) {
        const connected = await Promise.all(
          Array.from({ length: 50 }, () => connectAndLeave(port)),
        );
        accepted += connected.filter(Boolean).length;
        if (connected.includes(false)) break; // the server stopped accepting: it is blocked
      }
      const echoed = new Promise<string>((resolve) => {
        held.removeAllListeners("data");
        held.setEncoding("utf8").once("data", resolve);
      });
      held.write("still there?\n");
      expect(await within(echoed, `no echo after ${accepted} connections`)).toBe("still there?\n");
      // SIGINT (what Ctrl-C sends; script, blocked on its own output, cannot pass a typed one
      // on): the server stops and closes its clients.
      const closed = once(held, "close");
      const children = `/proc/${terminal.pid}/task/${terminal.pid}/children`;
      const pid = Number(readFileSync(children, "utf8").trim());
      expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, 2)).toEqual([
        process.execPath,
        server,
      ]);
      process.kill(pid, "SIGINT");
      await within(closed, "the held client was not closed after SIGINT");
      // Reading again lets the terminal take what is still queued; the server exits 0.
      terminal.stdout.resume();
      const [code] = (await within(once(terminal, "close"), "no exit after SIGINT")) as [number];
      expect(code).toBe(0);
      // The terminal really was full: the log dropped lines and said so once it caught up.
      // The count at exit is never one of them.
      expect(printed).toMatch(/lines? not printed: stdout was too slow/);
      expect(printed).toMatch(/stopped: 1 connection \([\d,]+ rejected\), 1 message/);
    } finally {
      terminal.kill("SIGKILL");
    }
  });

  test("--json: a message record carries the escaped preview and the length in bytes; a long one is cut", async () => {
    const { server, port } = await startServer(["--json"]);
    const long = "x".repeat(5_000);
    const input = `${HOSTILE}\n${long}\n`;
    expect((await run("client-cli", ["--port", port], { stdin: input })).code).toBe(0);
    await server.line(/"event":"disconnect"/);
    const stopped = await interrupt(server);
    const messages = messageRecords(stopped.stdout);
    expect(messages[0]).toMatchObject({
      text: ESCAPED,
      bytes: Buffer.byteLength(HOSTILE),
      truncated: false,
    });
    expect(messages[1]).toMatchObject({ text: "x".repeat(120), bytes: 5_000, truncated: true });
    expect(hasRawControls(stopped.stdout)).toBe(false);
  });

  test("a long line is cut in the log, with the count of bytes not shown", async () => {
    const { server, port } = await startServer();
    const long = `${"y".repeat(5_000)}`;
    expect((await run("client-cli", ["--port", port, "-m", long])).stdout).toBe(`${long}\n`);
    const line = await server.line(/: "y/);
    expect(line).toMatch(/^127\.0\.0\.1:\d+: "y{120}"…\(4,880 more bytes\)$/);
  });
});
