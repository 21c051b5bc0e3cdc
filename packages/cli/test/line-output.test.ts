import { Writable } from "node:stream";
import { createLineOutput, createServerLog, preview } from "@socket-lab/cli";
import { describe, expect, test } from "vitest";

/** A pipe whose reader never reads: writes are accepted and stay queued, as in a full pipe. */
function neverDrains(): Writable {
  return new Writable({ highWaterMark: 16 * 1024, write: () => {} });
}

/** A stream that collects everything written. */
function collecting() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

describe("createLineOutput", () => {
  test("a reader that never reads: 100,000 lines offered, at most maxQueuedBytes queued, the rest dropped and counted", () => {
    const stream = neverDrains();
    const out = createLineOutput(stream, { maxQueuedBytes: 64 * 1024 });
    let peak = 0;
    for (let i = 0; i < 100_000; i += 1) {
      out.write(`127.0.0.1:5512: ${preview(`message ${i}`)}\n`);
      peak = Math.max(peak, stream.writableLength);
    }
    expect(peak).toBeLessThanOrEqual(64 * 1024);
    expect(out.stats.written + out.stats.dropped).toBe(100_000);
    expect(out.stats.dropped).toBeGreaterThan(90_000);
  });

  test("a program's last line is queued past the cap; a closed stream still drops it", () => {
    const stream = neverDrains();
    const out = createLineOutput(stream, { maxQueuedBytes: 1024 });
    const last = `${"stopped: 1 connection".padEnd(99, " ")}\n`;
    while (out.write(`${"x".repeat(99)}\n`)) {}
    expect(out.write(last)).toBe(false);
    expect(out.write(last, { always: true })).toBe(true);
    expect(stream.writableLength).toBeGreaterThan(1024);
    stream.destroy();
    expect(out.write("after the end\n", { always: true })).toBe(false);
  });

  test("createServerLog's last(): the count at exit is not dropped by a full stdout", () => {
    const stdout = neverDrains();
    const log = createServerLog({ name: "t", stdout, stderr: neverDrains(), maxQueuedBytes: 1024 });
    for (let i = 0; i < 100; i += 1) log.print(`127.0.0.1:${i} connected`, {});
    const queued = stdout.writableLength;
    log.last("stopped: 100 connections", {});
    expect(stdout.writableLength).toBe(queued + "stopped: 100 connections\n".length);
  });

  test("says how many lines it dropped once the reader catches up ('drain')", async () => {
    let release: (() => void) | undefined;
    const stream = new Writable({
      highWaterMark: 1024,
      write(_chunk, _encoding, done) {
        release = done; // one write at a time, held until released
      },
    });
    const caughtUp: number[] = [];
    const out = createLineOutput(stream, {
      maxQueuedBytes: 4096,
      onCatchUp: (n) => caughtUp.push(n),
    });
    for (let i = 0; i < 1_000; i += 1) out.write(`${"x".repeat(99)}\n`);
    expect(out.stats.dropped).toBe(1_000 - out.stats.written);
    // The reader takes everything.
    for (let i = 0; i < 1_000 && stream.writableLength > 0; i += 1) {
      release?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(caughtUp).toEqual([out.stats.dropped]);
  });

  test("EPIPE on the stream: no uncaught error, onClose once, nothing written after", async () => {
    const stream = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const closed: string[] = [];
    const out = createLineOutput(stream, {
      onClose: (error) => closed.push((error as NodeJS.ErrnoException).code ?? ""),
    });
    expect(out.write("first\n")).toBe(true);
    await new Promise((resolve) => stream.once("close", resolve));
    expect(closed).toEqual(["EPIPE"]);
    expect(out.write("second\n")).toBe(false);
    expect(out.stats).toEqual({ written: 1, dropped: 1, closed: true });
  });

  test("rejects a bad maxQueuedBytes, naming it", () => {
    expect(() => createLineOutput(neverDrains(), { maxQueuedBytes: 0 })).toThrow(
      'The value of "maxQueuedBytes" is out of range. It must be an integer >= 1. Received 0',
    );
  });
});

describe("createServerLog", () => {
  test("rate-limits message lines per source and prints the summary when the source leaves", () => {
    const stdout = collecting();
    const stderr = collecting();
    const log = createServerLog({
      name: "srv",
      stdout: stdout.stream,
      stderr: stderr.stream,
      perSource: 2,
    });
    let described = 0;
    for (let i = 0; i < 18_206; i += 1) {
      log.message("127.0.0.1:5512", () => {
        described += 1;
        return [`127.0.0.1:5512: ${preview("")}`, { event: "message" }];
      });
    }
    log.flush("127.0.0.1:5512");
    log.print("127.0.0.1:5512 disconnected", { event: "disconnect" });
    expect(described).toBe(2);
    expect(stdout.text()).toBe(
      [
        '127.0.0.1:5512: ""',
        '127.0.0.1:5512: ""',
        "… 18,204 more messages from 127.0.0.1:5512 not shown",
        "127.0.0.1:5512 disconnected",
        "",
      ].join("\n"),
    );
    log.flush();
  });

  test("--json: the summary is a record too", () => {
    const stdout = collecting();
    const log = createServerLog({
      name: "srv",
      stdout: stdout.stream,
      stderr: collecting().stream,
      json: true,
      perSource: 1,
    });
    for (let i = 0; i < 3; i += 1) log.message("a", () => ["a", { event: "message" }]);
    log.flush();
    expect(
      stdout
        .text()
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([{ event: "message" }, { event: "not-shown", from: "a", messages: 2 }]);
  });

  test("stdout closed (EPIPE): one line on stderr, then silence; no throw", async () => {
    const stdout = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const stderr = collecting();
    const log = createServerLog({ name: "srv", stdout, stderr: stderr.stream });
    log.print("listening", {});
    await new Promise((resolve) => stdout.once("close", resolve));
    for (let i = 0; i < 100; i += 1) log.print("more", {});
    log.flush();
    expect(stderr.text()).toBe("srv: stdout closed (EPIPE); serving on without printing\n");
  });
});
