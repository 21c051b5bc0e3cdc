import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { createProgress, formatBar } from "../src/progress.js";

/** A stream that keeps what is written, claiming to be a terminal or not. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    { isTTY },
  );
  return { stream, chunks };
}

describe("createProgress", () => {
  test("draws nothing when the stream is not a terminal", () => {
    expect(createProgress(sink(false).stream)).toBeUndefined();
  });

  test("redraws one line on a terminal, always at a row's start and end, and clears it", () => {
    const { stream, chunks } = sink(true);
    const progress = createProgress(stream);
    for (let sent = 1; sent <= 1_000; sent++) progress?.update("TCP stream", sent, 1_000);
    progress?.clear();

    expect(chunks[0]).toBe(`\r${formatBar("TCP stream", 1, 1_000)}\u001b[K`);
    expect(chunks.at(-2)).toBe(`\r${formatBar("TCP stream", 1_000, 1_000)}\u001b[K`);
    expect(chunks.at(-1)).toBe("\r\u001b[K");
    // Throttled: far fewer frames than updates.
    expect(chunks.length).toBeLessThan(100);
  });

  test("clears nothing when it never drew", () => {
    const { stream, chunks } = sink(true);
    createProgress(stream)?.clear();
    expect(chunks).toEqual([]);
  });
});

describe("formatBar", () => {
  test("fills in proportion and counts with separators", () => {
    expect(formatBar("TCP stream", 250, 1_000, 8)).toBe(
      "TCP stream       [██░░░░░░]     250/1,000",
    );
    expect(formatBar("x", 0, 0, 4)).toBe(`x${" ".repeat(15)} [████]           0/0`);
  });
});
