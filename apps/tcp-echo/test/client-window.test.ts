/**
 * The client keeps a bounded window of messages in flight (issue 17, item 12): its memory stays
 * flat against a server that reads and never replies, it then fails with ERR_TIMEOUT, and a long
 * run costs time in proportion to its length. Counts and bytes are asserted, never time.
 */

import { once } from "node:events";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Server } from "node:net";
import { ErrorCode, type InetEndpoint, isSocketError } from "@socket-lab/core";
import { afterEach, describe, expect, test } from "vitest";
import { runClient, TCP_ECHO_WINDOW } from "../src/client.js";
import { startServer as startEchoServer } from "../src/server.js";
import { type Program, start, startServer, stopAll } from "./_spawn.js";

/** Bound on the long runs below, far above what they take on a busy 2-core machine. */
const LONG_RUN_MS = 120_000;

/**
 * RSS the client may reach against a silent server. It holds 48 MB there with its window of
 * 1,000; keeping every one of 1,000,000 messages (before the window) took 144 MB.
 */
const MAX_RSS_BYTES = 100 * 1024 * 1024;

/** A test that runs a long exchange gets longer than vitest's default 30 s. */
const LONG_TEST_MS = LONG_RUN_MS + 30_000;

const servers = new Set<Server>();
afterEach(() => {
  stopAll();
  for (const server of servers) server.close();
  servers.clear();
});

/** A server that reads every line and never replies (`socat … SYSTEM:'cat > /dev/null'`). */
async function silentServer(): Promise<{ port: number; lines: () => number }> {
  let lines = 0;
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines += 1;
    });
  });
  servers.add(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as AddressInfo).port, lines: () => lines };
}

/** Resident memory of a running process, in bytes, or `undefined` once it has exited. */
function rssOf(pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** Calls `check` every 50 ms until it returns true; fails after `boundMs`. */
async function poll(check: () => boolean, what: string, boundMs: number): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for a long-running program to exit, with a bound made for long runs. */
async function exitOf(program: Program): Promise<number | null> {
  const { child } = program;
  if (child.exitCode === null && child.signalCode === null) {
    await poll(() => child.exitCode !== null || child.signalCode !== null, "exit", LONG_RUN_MS);
  }
  if (child.stdout?.readableEnded !== true) await once(child, "close");
  return child.exitCode;
}

describe("tcp-echo-client's window of messages in flight", () => {
  test.each([
    { input: "--count 1000000", args: ["--count", "1000000"], stdin: () => "" },
    {
      input: "1,000,000 piped lines",
      args: [],
      stdin: () => Array.from({ length: 1_000_000 }, (_, i) => `line ${i + 1}\n`).join(""),
    },
  ])(
    "against a server that reads and never replies, $input: only the window (1,000 messages) is sent, RSS stays flat under 100 MB, and ERR_TIMEOUT ends it, exit 1",
    async ({ args, stdin }) => {
      const silent = await silentServer();
      const client = start(
        "client-cli",
        ["--port", String(silent.port), ...args, "--timeout", "2"],
        { stdin: stdin() },
      );
      const pid = client.child.pid as number;
      // The window fills at once; then nothing more may be read from the input or sent.
      await poll(() => silent.lines() >= TCP_ECHO_WINDOW, "full window", LONG_RUN_MS);
      const full = rssOf(pid);
      let peak = full ?? 0;
      const growing = () => {
        peak = Math.max(peak, rssOf(pid) ?? 0);
        return client.child.exitCode !== null;
      };
      await poll(growing, "exit", LONG_RUN_MS);
      expect(await exitOf(client)).toBe(1);
      expect(silent.lines()).toBe(TCP_ECHO_WINDOW);
      expect(peak).toBeLessThan(MAX_RSS_BYTES);
      // Flat while the server keeps silent: before, the client kept every message (+300 MB in 7 s).
      if (full !== undefined) expect(peak - full).toBeLessThan(20 * 1024 * 1024);
      expect(client.stderr()).toBe(
        `tcp-echo-client: no reply from 127.0.0.1:${silent.port} for 2000 ms, with 1000 of 1000 messages sent still unanswered. The server did not answer in time: check that it is an echo server, or allow longer with --timeout SECONDS\n`,
      );
    },
    LONG_TEST_MS,
  );

  test(
    "--count 200000 against tcp-echo-server gets every reply",
    async () => {
      const { port } = await startServer();
      const client = start("client-cli", ["--port", port, "--count", "200000", "--json"]);
      expect(await exitOf(client)).toBe(0);
      expect(JSON.parse(client.stdout())).toMatchObject({
        event: "summary",
        server: `tcp://127.0.0.1:${port}`,
        messages: 200_000,
        replies: 200_000,
      });
    },
    LONG_TEST_MS,
  );

  test(
    "200,000 piped lines come back in order, each reply its own message",
    async () => {
      const { port } = await startServer();
      const input = Array.from({ length: 200_000 }, (_, i) => `line ${i + 1}\n`).join("");
      const client = start("client-cli", ["--port", port], { stdin: input });
      expect(await exitOf(client)).toBe(0);
      expect(client.stdout()).toBe(input);
    },
    LONG_TEST_MS,
  );
});

describe("runClient({ window })", () => {
  test("reads the next message only when the window has room, and times out when no reply comes", async () => {
    const silent = await silentServer();
    let read = 0;
    const messages = (function* () {
      for (let n = 1; n <= 100; n++) {
        read += 1;
        yield `message ${n}`;
      }
    })();
    const failure = await runClient({ port: silent.port, messages, window: 3, timeoutMs: 200 })
      .then(() => undefined)
      .catch((error: unknown) => error);
    expect(isSocketError(failure) && failure.code).toBe(ErrorCode.ERR_TIMEOUT);
    expect((failure as Error).message).toBe(
      `no reply from 127.0.0.1:${silent.port} for 200 ms, with 3 of 3 messages sent still unanswered`,
    );
    expect(read).toBe(3);
    await poll(() => silent.lines() === 3, "3 lines at the server", 20_000);
  });

  test("window 1 is stop-and-wait and still gets every reply, in order", async () => {
    const server = await startEchoServer({ port: 0 });
    try {
      const replies: string[] = [];
      const messages = Array.from({ length: 50 }, (_, i) => `m${i}`);
      const summary = await runClient({
        port: (server.endpoint as InetEndpoint).port,
        messages,
        window: 1,
        onReply: ({ reply }) => replies.push(reply),
      });
      expect(summary.messages).toBe(50);
      expect(replies).toEqual(messages);
    } finally {
      await server.close();
    }
  });

  test("input slower than timeoutMs is no timeout: the deadline runs only while replies are due", async () => {
    const server = await startEchoServer({ port: 0 });
    try {
      // The pause is the input itself (a person typing), not a wait for the test's sake. It
      // outlasts timeoutMs, which is long enough for any echo on a busy machine: a deadline
      // running while nothing is due would fire during the pause.
      const timeoutMs = 3_000;
      const messages = (async function* () {
        yield "first";
        await new Promise((resolve) => setTimeout(resolve, timeoutMs + 1_000));
        yield "second";
      })();
      const replies: string[] = [];
      await runClient({
        port: (server.endpoint as InetEndpoint).port,
        messages,
        timeoutMs,
        onReply: ({ reply }) => replies.push(reply),
      });
      expect(replies).toEqual(["first", "second"]);
    } finally {
      await server.close();
    }
  });

  test("timeoutMs 0 sets no deadline for replies, as it sets none for connecting", async () => {
    const server = await startEchoServer({ port: 0 });
    try {
      const summary = await runClient({
        port: (server.endpoint as InetEndpoint).port,
        messages: ["one", "two"],
        timeoutMs: 0,
      });
      expect(summary.messages).toBe(2);
    } finally {
      await server.close();
    }
  });

  test.each([0, 1.5, Number.NaN])("window %s is a RangeError naming the option", async (window) => {
    await expect(runClient({ port: 1, window })).rejects.toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message: `The value of "window" is out of range. It must be an integer >= 1. Received ${window}`,
      }),
    );
  });
});
