import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { arrivalOrder } from "../src/arrival-order.js";
import { ROW_IDS } from "../src/settings.js";
import { formatSparklines, sparkline, sparklinesWanted } from "../src/sparkline.js";
import { FIXTURE } from "./_fixture.js";
import { CLI } from "./_helpers.js";

const inOrder = (n: number) => ({ seq: Array.from({ length: n }, (_, i) => i), atMs: [] });

describe("arrivalOrder", () => {
  test("reads each message's fate the way the sequence tracker counts", () => {
    const order = arrivalOrder({ seq: [0, 2, 1, 1, 4], atMs: [] }, 6);
    expect(order.fates).toEqual(["inOrder", "late", "inOrder", "lost", "inOrder", "lost"]);
    expect(order.repeat).toEqual([false, false, false, true, false]);
    expect(order.late).toEqual([false, false, true, false, false]);
    expect([...order.duplicated]).toEqual([1]);
  });
});

describe("sparkline", () => {
  test("a stream that kept every message in order is a flat full bar", () => {
    expect(sparkline(inOrder(1_000), 1_000, 40)).toBe("█".repeat(40));
  });

  test("dips where messages were lost, late or came twice", () => {
    expect(sparkline({ seq: [0, 1, 3, 2], atMs: [] }, 4, 4)).toBe("██ █");
    // One column of ten messages, one of them lost: a step lower, not full.
    expect(sparkline({ seq: [0, 1, 2, 3, 4, 5, 6, 7, 8], atMs: [] }, 10, 1)).toBe("▇");
    expect(sparkline({ seq: [0, 0, 1], atMs: [] }, 2, 2)).toBe(" █");
    expect(sparkline({ seq: [], atMs: [] }, 3, 3)).toBe("   ");
  });

  test("one line per row under a line saying how to read them", () => {
    const lines = formatSparklines(FIXTURE, 50);
    expect(lines).toHaveLength(1 + ROW_IDS.length);
    expect(lines[1]).toMatch(/^TCP stream +█{50}$/);
    expect(lines[2]).toMatch(/^UDP datagrams +[ ▁▂▃▄▅▆▇█]{50}$/);
    expect(lines[2]).not.toMatch(/^UDP datagrams +█{50}$/);
  });
});

describe("sparklinesWanted", () => {
  test.each<[string, { isTTY?: boolean }, NodeJS.ProcessEnv, boolean]>([
    ["a UTF-8 terminal", { isTTY: true }, { LANG: "en_US.UTF-8" }, true],
    ["LC_ALL wins", { isTTY: true }, { LC_ALL: "C", LANG: "en_US.UTF-8" }, false],
    ["a pipe", {}, { LANG: "C.UTF-8" }, false],
    ["NO_COLOR", { isTTY: true }, { LANG: "C.UTF-8", NO_COLOR: "1" }, false],
    ["no locale", { isTTY: true }, {}, false],
    ["TERM=dumb", { isTTY: true }, { LANG: "C.UTF-8", TERM: "dumb" }, false],
  ])("%s: %j %j → %s", (_, stream, env, wanted) => {
    expect(sparklinesWanted(stream, env)).toBe(wanted);
  });
});

/** Runs the built program on a pseudo-terminal (util-linux `script`), as a person would. */
function onTerminal(env: NodeJS.ProcessEnv): string {
  const ran = spawnSync("script", ["-qec", `${process.execPath} ${CLI} --count 100`, "/dev/null"], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  expect(ran.status, ran.stderr).toBe(0);
  return ran.stdout;
}

describe("on a terminal (the built program)", () => {
  test("prints a sparkline per row when the terminal speaks UTF-8", () => {
    const out = onTerminal({ LANG: "C.UTF-8", LC_ALL: "", NO_COLOR: "" });
    expect(out).toContain("arrival order, the messages as sent in 60 slices");
    expect(out).toMatch(/TCP stream +█{60}/);
    expect(out).toMatch(/UDP datagrams {2}[ ▁▂▃▄▅▆▇█]{60}/);
  });

  test("prints today's report with NO_COLOR", () => {
    const out = onTerminal({ LANG: "C.UTF-8", LC_ALL: "", NO_COLOR: "1" });
    expect(out).toContain("cross-check:");
    expect(out).not.toContain("arrival order");
  });
});
