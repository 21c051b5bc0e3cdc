import { readFileSync } from "node:fs";
import { helpDefaults } from "@socket-lab/test-utils/help-defaults";
import { describe, expect, test } from "vitest";
import pkg from "../package.json" with { type: "json" };
import type { LinkCounts } from "../src/internal/row.js";
import {
  COMPARE_CHUNKING,
  COMPARE_COUNT,
  COMPARE_DELAY_MS,
  COMPARE_DUPLICATE,
  COMPARE_JITTER_MS,
  COMPARE_LOSS,
  COMPARE_REORDER,
  COMPARE_SEED,
  COMPARE_SIZE,
  type Settings,
} from "../src/settings.js";
import { linkPlan, README, runCli } from "./_helpers.js";

type Json = Record<string, unknown>;

/** The shape of a JSON value: its type, and for objects the shape of every field. */
function shape(value: unknown): unknown {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, shape(field)]));
}

/** The `--json` example in the README: the documented schema. */
function documentedExample(): Json {
  const match = /```json\n([\s\S]*?)\n```/.exec(readFileSync(README, "utf8"));
  if (match?.[1] === undefined) throw new Error("the README has no ```json block");
  return JSON.parse(match[1]) as Json;
}

/**
 * Everything in a `--json` result that the flags decide whatever the timing: each row's
 * delivery counts (every row that repairs delivers all, once and in order), the UDP link's
 * counts and the cross-check. Not times, and not what the rows that resend on a timer (retries,
 * RTO, tail-loss probes, ACK timing) sent: their retries and their links' counts.
 */
function counts(json: Json) {
  const rows = json.rows as Record<string, Json>;
  const pick = (row: Json) => ({
    sent: row.sent,
    delivered: row.delivered,
    lost: row.lost,
    duplicated: row.duplicated,
    outOfOrder: row.outOfOrder,
  });
  const netsim = json.netsim as Json;
  return {
    settings: json.settings,
    tcp: pick(rows.tcp as Json),
    udp: pick(rows.udp as Json),
    udpRetries: pick(rows.udpRetries as Json),
    udpWindow: pick(rows.udpWindow as Json),
    udpLink: netsim.udpLink,
    crossCheck: json.crossCheck,
  };
}

/** The root README's `pnpm demo` transcript: sent, delivered, lost, duplicated, out of order per row. */
function transcriptCounts(): number[][] {
  const root = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const transcript = /```\n\$ pnpm demo\n([\s\S]*?)```/.exec(root)?.[1] ?? "";
  return ["TCP stream", "UDP datagrams", "UDP \\+ retries", "UDP \\+ sliding window"].map((row) => {
    const cells = new RegExp(`^${row} +(.*)$`, "m").exec(transcript)?.[1]?.split(/ +/) ?? [];
    return cells.slice(0, 5).map((cell) => Number(cell.replaceAll(",", "")));
  });
}

/**
 * The links of the rows that resend on a timer: how many datagrams entered each direction
 * depends on timing, but the seeded plan decides the fate of every one of them, in order.
 */
function expectLinksFollowTheSeed(json: Json) {
  const settings = json.settings as Settings;
  const netsim = json.netsim as Record<string, Record<string, LinkCounts>>;
  for (const name of ["retryLink", "windowLink"]) {
    const { toServer, toClient } = netsim[name] as Record<string, LinkCounts>;
    // (The sliding window packs several messages into one datagram: fewer than `count`.)
    expect(toServer?.received).toBeGreaterThan(0);
    expect(toServer).toMatchObject(linkPlan(settings, "to-server", toServer?.received ?? 0));
    expect(toClient?.received).toBeGreaterThan(0);
    expect(toClient).toMatchObject(linkPlan(settings, "to-client", toClient?.received ?? 0));
  }
}

/** Bound on one run of the defaults: some 3–5 s on an idle 2-core machine, far more on a busy one. */
const RUN_LIMIT_MS = 90_000;

describe("socket-lab-compare (the built program)", () => {
  test("with defaults shows the difference, as one JSON object in the README's schema", async () => {
    const { code, stdout, stderr } = await runCli(["--json"], RUN_LIMIT_MS);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0] as string) as Json;

    // The README documents exactly these fields, with these types.
    expect(shape(json)).toEqual(shape(documentedExample()));
    expect(json.schemaVersion).toBe(1);
    expect(json.settings).toEqual({
      count: 1000,
      size: 256,
      loss: 0.05,
      duplicate: 0.02,
      reorder: 0.05,
      delayMs: 0,
      jitterMs: 0,
      seed: 42,
      chunking: "random",
      kernelLoss: null,
    });
    // The README shows the numbers of this very run: same seed, same counts.
    expect(counts(json)).toEqual(counts(documentedExample()));
    // So does the root README's transcript of `pnpm demo`, in its table.
    expect(transcriptCounts()).toEqual(
      ["tcp", "udp", "udpRetries", "udpWindow"].map((name) => {
        const row = (json.rows as Record<string, Json>)[name] as Json;
        return [row.sent, row.delivered, row.lost, row.duplicated, row.outOfOrder];
      }),
    );
    expectLinksFollowTheSeed(json);
    expectLinksFollowTheSeed(documentedExample());

    const rows = json.rows as Record<string, Json>;
    expect(rows.tcp).toMatchObject({ delivered: 1000, lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(rows.udp?.lost).toBeGreaterThan(0);
    expect(rows.udp?.duplicated).toBeGreaterThan(0);
    expect(rows.udp?.outOfOrder).toBeGreaterThan(0);
    expect(rows.udpRetries).toMatchObject({ delivered: 1000, lost: 0, duplicated: 0 });
    expect(rows.udpRetries?.retries).toBeGreaterThan(0);
    expect(rows.udpWindow).toMatchObject({
      delivered: 1000,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
    });
    expect(rows.udpWindow?.retries).toBeGreaterThan(0);
    expect(json.crossCheck).toMatchObject({ ok: true });
  });

  test("two runs with the same seed give the same counts", async () => {
    const args = [
      "--json",
      "--count",
      "300",
      "--seed",
      "99",
      "--loss",
      "0.1",
      "--chunking",
      "coalesce",
    ];
    const [first, second] = await Promise.all([
      runCli(args, RUN_LIMIT_MS),
      runCli(args, RUN_LIMIT_MS),
    ]);
    expect(first?.code).toBe(0);
    expect(second?.code).toBe(0);
    const runs = [first, second].map((run) => JSON.parse(run?.stdout ?? "") as Json);
    const [a, b] = runs.map(counts);
    expect(b).toEqual(a);
    expect(a?.udp.lost).toBeGreaterThan(0);
    expect(a?.udpWindow).toEqual({
      sent: 300,
      delivered: 300,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
    });
    // Retries and the timer rows' link counts may differ between the runs; each run's link
    // still did exactly what the seed says to every datagram that entered it.
    for (const json of runs) expectLinksFollowTheSeed(json);
  });

  test("prints the table, the cross-check and the summary, and no progress bar when piped", async () => {
    const { code, stdout, stderr } = await runCli(["--count", "100", "--size", "16"]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^100 messages of 16 bytes over each transport, seed 42\n/);
    expect(stdout).toMatch(/\n +out of +p50 +p99\n/);
    expect(stdout).toMatch(
      /\n +sent +delivered +lost +duplicated +order +retries +elapsed +msg\/s +latency +latency\n/,
    );
    expect(stdout).toMatch(
      /\nTCP stream +100 +100 +0 +0 +0 +– +[\d.]+ m?s +[\d,]+ +[\d.]+ m?s +[\d.]+ m?s\n/,
    );
    expect(stdout).toMatch(/\nUDP datagrams +100 +\d+ +\d+ +\d+ +\d+ +– /);
    expect(stdout).toMatch(/\nUDP \+ retries +100 +100 +0 +0 +0 +\d+ /);
    expect(stdout).toMatch(
      /\ncross-check: receiver saw \d+ lost, \d+ duplicated; netsim injected \d+ drops?, \d+ duplicates? ✓\n/,
    );
    expect(stdout).toContain("\nTCP: all 100 messages arrived, each once and in order.");
  });

  test("--trace tells each socket's life on stderr, sends and receives summed up", async () => {
    const { code, stdout, stderr } = await runCli(["--trace", "--count", "20"]);
    expect(code).toBe(0);
    expect(stdout).toContain("cross-check:");
    for (const line of [
      /^tcp server +socket\(AF_INET, SOCK_STREAM, IPPROTO_TCP\) = \d+$/m,
      /^tcp server +listen\(\d+, \d+\)$/m,
      /^tcp server +accept\(\d+\) = \d+ \(127\.0\.0\.1:\d+\)$/m,
      /^tcp client +connect\(\d+, 127\.0\.0\.1:\d+\)$/m,
      /^tcp client +shutdown\(\d+, SHUT_WR\)$/m,
      /^tcp server +recv\(\d+\) ×\d+ \(5,200 bytes\)$/m,
      /^tcp server +recv\(\d+\) = 0 \(end of stream\)$/m,
      /^udp receiver +bind\(\d+, 127\.0\.0\.1:\d+\)$/m,
      /^udp sender +sendto\(\d+\) ×20 \(5,120 bytes\)$/m,
      /^retry server +socket\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\) = \d+$/m,
      /^retry client +close\(\d+\)$/m,
      /^window server +socket\(AF_INET, SOCK_DGRAM, IPPROTO_UDP\) = \d+$/m,
      /^window client +connect\(\d+, 127\.0\.0\.1:\d+\)$/m,
      /^window client +send\(\d+\) ×\d+ \([\d,]+ bytes\)$/m,
      /^window server +recvfrom\(\d+\) ×\d+ \([\d,]+ bytes\)$/m,
      /^window client +close\(\d+\)$/m,
    ]) {
      expect(stderr).toMatch(line);
    }
    // Sends and receives summed up: every such line is a tally (or the end of a stream)…
    const lines = stderr.trimEnd().split("\n");
    for (const line of lines.filter((l) => /\b(send|sendto|recv|recvfrom)\(/.test(l))) {
      expect(line).toMatch(/\) ×[\d,]+ \([\d,]+ bytes?\)$|\) = 0 \(end of stream\)$/);
    }
    // …so few lines: some 20 a row (its sockets' lives), where a line per call would give
    // over 40 for each of the four rows' 20 messages; and no progress bar.
    expect(lines.length).toBeLessThan(120);
    expect(stderr).not.toContain("\r");
  });

  test.each([
    [["--count", "0"], "--count"],
    [["--count=-5"], "--count"],
    [["--count", "many"], "--count"],
    [["--count", "1000001"], "--count"],
    [["--size", "8"], "--size"],
    [["--size", "1465"], "--size"],
    [["--size", "1.5"], "--size"],
    [["--loss", "1.5"], "--loss"],
    [["--loss", "lots"], "--loss"],
    [["--duplicate=-0.1"], "--duplicate"],
    [["--reorder", "2"], "--reorder"],
    [["--delay", "1.5"], "--delay"],
    [["--delay=-1"], "--delay"],
    [["--jitter", "10001"], "--jitter"],
    [["--seed", "4294967296"], "--seed"],
    [["--seed", "x"], "--seed"],
    [["--chunking", "lines"], "--chunking"],
    [["--count"], "--count"],
    [["--colour"], "--colour"],
    [["--kernel-loss", "1.5"], "--kernel-loss"],
    [["--kernel-loss", "some"], "--kernel-loss"],
    [["--html"], "--html"],
    [["--kernel-loss", "0.05", "--loss", "0.1"], "--loss"],
    [["--kernel-loss", "0.05", "--chunking", "bytes"], "--chunking"],
  ])("%j is a usage error naming %s (exit 2)", async (args, flag) => {
    const { code, stdout, stderr } = await runCli(args);
    expect({ code, stderr }).toMatchObject({ code: 2 });
    expect(stdout).toBe("");
    expect(stderr).toContain(flag);
    expect(stderr).toContain("Run 'socket-lab-compare --help' for usage.");
  });

  test("--loss 1 --count 20 says nothing arrived, with no slowest 1% and no ratio to TCP", async () => {
    const { code, stdout, stderr } = await runCli(
      ["--loss", "1", "--count", "20"],
      // The sliding window row gives up connecting only after its handshake retries run out.
      90_000,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/\nUDP datagrams +20 +0 +20 /);
    expect(stdout).toMatch(/\nUDP \+ retries +20 +0 +20 /);
    const summary = stdout.replace(/\n/g, " ");
    expect(summary).toContain("UDP: nothing arrived: all 20 datagrams were lost");
    expect(summary).toContain("UDP + retries: nothing arrived: none of the 20 messages");
    expect(summary).not.toContain("slowest 1%");
    expect(summary).not.toContain("slower than TCP");
    expect(summary).not.toMatch(/took –/);
  });

  test("--size explains both limits", async () => {
    expect((await runCli(["--size", "8"])).stderr).toContain("16-byte sequenced header");
    expect((await runCli(["--size", "2000"])).stderr).toContain("1,472-byte safe UDP payload");
  });

  test("--help lists every flag with its default; --version prints the version", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const flag of [
      "--count N",
      "--size BYTES",
      "--loss RATE",
      "--duplicate RATE",
      "--reorder RATE",
      "--delay MS",
      "--jitter MS",
      "--seed N",
      "--chunking MODE",
      "--trace",
      "--json",
      "--kernel-loss RATE",
      "--html FILE",
      "--help",
      "--version",
    ]) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toContain("random, bytes, coalesce (default: random)");
    // Every default shown is the constant a run applies.
    expect(helpDefaults(help.stdout)).toEqual({
      count: String(COMPARE_COUNT),
      size: String(COMPARE_SIZE),
      loss: String(COMPARE_LOSS),
      duplicate: String(COMPARE_DUPLICATE),
      reorder: String(COMPARE_REORDER),
      delay: String(COMPARE_DELAY_MS),
      jitter: String(COMPARE_JITTER_MS),
      seed: String(COMPARE_SEED),
      chunking: COMPARE_CHUNKING,
    });

    const version = await runCli(["--version"]);
    expect(version).toEqual({ code: 0, stdout: `socket-lab-compare ${pkg.version}\n`, stderr: "" });
  });
});
