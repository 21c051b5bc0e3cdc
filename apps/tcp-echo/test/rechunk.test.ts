/**
 * `tcp-echo-client --rechunk`: a re-chunking relay inside the client cuts the stream into random
 * 1–16 byte pieces; before each reply the client prints the reads that brought it.
 */

import { afterEach, describe, expect, test } from "vitest";
import { run, startServer, stopAll } from "./_spawn.js";

afterEach(() => stopAll());

/** The sizes of the `recv(FD) = N` lines, in order. */
function reads(stdout: string): number[] {
  return [...stdout.matchAll(/^recv\(\d+\) = (\d+)$/gm)].map((m) => Number(m[1]));
}

describe("tcp-echo-client --rechunk", () => {
  test("prints the reads that made the reply, then the message; they add up to its bytes", async () => {
    const { port } = await startServer();
    // A longer message: many pieces, so even a busy machine reads it in more than one go.
    const message = "Hello from client, cut into pieces by netsim ".repeat(4).trimEnd();
    const { code, stdout, stderr } = await run("client-cli", [
      "--port",
      port,
      "--rechunk",
      "--seed",
      "7",
      "--message",
      message,
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines.at(-1)).toBe(message);
    // Every line before the message is a read of the client's one socket, in strace's words;
    // the reads carry the message and its "\n".
    const fds = new Set(lines.slice(0, -1).map((line) => /^recv\((\d+)\) = \d+$/.exec(line)?.[1]));
    expect(fds.size).toBe(1);
    expect(fds.has(undefined)).toBe(false);
    const sizes = reads(stdout);
    expect(sizes.reduce((sum, n) => sum + n, 0)).toBe(Buffer.byteLength(`${message}\n`));
    expect(sizes.length).toBeGreaterThan(1);
    // Each piece is 1–16 bytes, but a read takes whatever has arrived: a client that a busy
    // machine keeps waiting reads several pieces at once (a stream keeps no boundaries).
    expect(sizes.every((n) => n >= 1)).toBe(true);
  });

  test("with piped lines and --json: recv records before each reply, all bytes accounted for", async () => {
    const { port } = await startServer();
    const input = "one\ntwo three four\nfive\n";
    const { code, stdout } = await run("client-cli", ["--port", port, "--rechunk", "--json"], {
      stdin: input,
    });
    expect(code).toBe(0);
    const records = stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string; bytes?: number; reply?: string });
    expect(records.filter((r) => r.event === "reply").map((r) => r.reply)).toEqual([
      "one",
      "two three four",
      "five",
    ]);
    expect(records.at(-1)?.event).toBe("reply");
    const bytes = records.filter((r) => r.event === "recv").map((r) => r.bytes ?? 0);
    expect(bytes.reduce((sum, n) => sum + n, 0)).toBe(input.length);
  });

  test.each([
    [["--seed", "7"], "--seed needs --rechunk"],
    [["--rechunk", "--tls", "--insecure"], "--rechunk and --tls: give one of them"],
  ])("%j is a usage error", async (args, message) => {
    const { code, stderr } = await run("client-cli", args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});
