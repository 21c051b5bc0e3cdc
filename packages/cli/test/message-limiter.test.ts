import { createMessageLimiter, type NotShown } from "@socket-lab/cli";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function limiter(options: Parameters<typeof createMessageLimiter>[0]) {
  const reports: NotShown[] = [];
  return { limit: createMessageLimiter(options, (r) => reports.push(r)), reports };
}

describe("createMessageLimiter", () => {
  test("shows perSource lines per source per window, counts the rest, and reports them when the window ends", () => {
    const { limit, reports } = limiter({ perSource: 3, perWindow: 100, windowMs: 1_000 });
    const shown = Array.from({ length: 18_207 }, () => limit.allow("127.0.0.1:5512"));
    expect(shown.filter(Boolean)).toHaveLength(3);
    expect(reports).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(reports).toEqual([{ source: "127.0.0.1:5512", sources: undefined, messages: 18_204 }]);
    // A new window: 3 more lines.
    expect(limit.allow("127.0.0.1:5512")).toBe(true);
  });

  test("caps the lines of all sources together at perWindow", () => {
    const { limit, reports } = limiter({ perSource: 5, perWindow: 8 });
    let shown = 0;
    for (let i = 0; i < 10; i += 1)
      for (let s = 0; s < 4; s += 1) if (limit.allow(`s${s}`)) shown += 1;
    expect(shown).toBe(8);
    limit.flush();
    expect(reports.reduce((sum, r) => sum + r.messages, 0)).toBe(40 - 8);
  });

  test("flush(source) reports that source at once (it disconnected) and only once", () => {
    const { limit, reports } = limiter({ perSource: 1 });
    limit.allow("a");
    limit.allow("a");
    limit.allow("b");
    limit.allow("b");
    limit.flush("a");
    expect(reports).toEqual([{ source: "a", sources: undefined, messages: 1 }]);
    limit.flush();
    limit.flush();
    vi.advanceTimersByTime(10_000);
    expect(reports).toEqual([
      { source: "a", sources: undefined, messages: 1 },
      { source: "b", sources: undefined, messages: 1 },
    ]);
  });

  test("holds at most maxSources and prints at most maxSummaries + 1 summaries per window, whatever the flood", () => {
    const { limit, reports } = limiter({
      perSource: 1,
      perWindow: 1_000,
      maxSources: 50,
      maxSummaries: 5,
    });
    let shown = 0;
    for (let i = 0; i < 100_000; i += 1) if (limit.allow(`10.0.${i % 5_000}`)) shown += 1;
    expect(shown).toBe(50);
    vi.advanceTimersByTime(1_000);
    expect(reports).toHaveLength(6);
    expect(reports.at(-1)).toMatchObject({ source: undefined, sources: undefined });
    expect(shown + reports.reduce((sum, r) => sum + r.messages, 0)).toBe(100_000);
  });

  test("a sum over a few sources says how many", () => {
    const { limit, reports } = limiter({ perSource: 1, maxSummaries: 1 });
    for (const s of ["a", "a", "a", "b", "b", "c", "c"]) limit.allow(s);
    limit.flush();
    expect(reports).toEqual([
      { source: "a", sources: undefined, messages: 2 },
      { source: undefined, sources: 2, messages: 2 },
    ]);
  });

  test("its timer never keeps the process alive", () => {
    const spy = vi.spyOn(globalThis, "setTimeout");
    const { limit } = limiter({});
    limit.allow("a");
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
    limit.flush();
  });

  test("rejects bad options, naming them", () => {
    expect(() => createMessageLimiter({ perSource: 0 }, () => {})).toThrow(
      'The value of "perSource" is out of range. It must be an integer >= 1. Received 0',
    );
    expect(() => createMessageLimiter({ windowMs: 0.5 }, () => {})).toThrow(RangeError);
  });
});
