import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import pkg from "../package.json" with { type: "json" };
import { README, runCli } from "./_helpers.js";

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

/** Everything in a `--json` result that the seed decides: counts, not times. */
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

describe("socket-lab-compare (the built program)", () => {
  test("with defaults shows the difference, as one JSON object in the README's schema", async () => {
    const { code, stdout, stderr } = await runCli(["--json"]);
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
    const [first, second] = await Promise.all([runCli(args), runCli(args)]);
    expect(first?.code).toBe(0);
    expect(second?.code).toBe(0);
    const a = counts(JSON.parse(first?.stdout ?? "") as Json);
    const b = counts(JSON.parse(second?.stdout ?? "") as Json);
    expect(b).toEqual(a);
    expect((a.udp as Json).lost).toBeGreaterThan(0);
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
      /\nTCP stream +100 +100 +0 +0 +0 +– +\d+ ms +[\d,]+ +[\d.]+ ms +[\d.]+ ms\n/,
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
    ]) {
      expect(stderr).toMatch(line);
    }
    // Few lines, not one per message; and no progress bar.
    expect(stderr.split("\n").length).toBeLessThan(80);
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
    expect(help.stdout).toContain("(default: 1000)");
    expect(help.stdout).toContain("random, bytes, coalesce (default: random)");

    const version = await runCli(["--version"]);
    expect(version).toEqual({ code: 0, stdout: `socket-lab-compare ${pkg.version}\n`, stderr: "" });
  });
});
