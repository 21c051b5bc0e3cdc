/**
 * What tcp-echo shows of its peers' data, and what its output can do to it: message lines are
 * escaped previews, rate-limited with a summary; a stdout whose reader went away is not fatal.
 */

import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import {
  ESCAPED,
  HOSTILE,
  hasRawControls,
  logAccounting,
  messageRecords,
} from "../../../test-utils/peer-text.js";
import { interrupt, run, startServer, stopAll } from "./_spawn.js";

afterEach(stopAll);

/** A raw TCP socket to the server, as nc would open; replies are read and thrown away. */
async function rawSocket(port: string): Promise<Socket> {
  const socket = connect(Number(port), "127.0.0.1");
  await once(socket, "connect");
  socket.resume();
  return socket;
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
