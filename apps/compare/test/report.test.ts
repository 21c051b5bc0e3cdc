import { describe, expect, test } from "vitest";
import {
  formatCrossCheck,
  formatReport,
  formatTable,
  SCHEMA_VERSION,
  toJson,
} from "../src/report.js";
import { FIXTURE } from "./_fixture.js";

describe("formatTable", () => {
  test("puts the four rows side by side under two heading lines, numbers right-aligned", () => {
    expect(formatTable(FIXTURE)).toEqual([
      "                                                          out of                                p50       p99",
      "                       sent  delivered  lost  duplicated   order  retries  elapsed   msg/s  latency   latency",
      "TCP stream            1,000      1,000     0           0       0        –    40 ms  25,000  1.50 ms   7.25 ms",
      "UDP datagrams         1,000        949    51          11      41        –    60 ms  15,817  1.50 ms   7.25 ms",
      "UDP + retries         1,000      1,000     0           0       0      212   2.92 s     342  0.07 ms  29.84 ms",
      "UDP + sliding window  1,000      1,000     0           0       0       61    80 ms  12,500  2.50 ms  14.50 ms",
    ]);
  });

  test("shows a dash for the latency of a row that delivered nothing", () => {
    const lines = formatTable({ ...FIXTURE, udp: { ...FIXTURE.udp, latencyMs: null } });
    expect(lines[3]).toMatch(/ –\s+–$/);
  });
});

describe("formatCrossCheck", () => {
  test("says ✓ when the receiver's counts are netsim's", () => {
    expect(formatCrossCheck(FIXTURE)).toBe(
      "cross-check: receiver saw 51 lost, 11 duplicated; netsim injected 51 drops, 11 duplicates ✓",
    );
  });

  test("says ✗ when they differ", () => {
    const crossCheck = { ...FIXTURE.crossCheck, lost: 52, ok: false };
    expect(formatCrossCheck({ ...FIXTURE, crossCheck })).toMatch(/52 lost,.* 51 drops, .* ✗$/);
  });
});

describe("formatReport", () => {
  test("says what ran, then the table, the cross-check and what it means", () => {
    const text = formatReport(FIXTURE);
    expect(text).toMatch(/^1,000 messages of 256 bytes over each transport, seed 42\n/);
    expect(text).toContain("drops 5%, duplicates 2% and reorders 5% of datagrams, no delay");
    expect(text).toContain("random pieces of 1–512 bytes");
    expect(text).toContain(formatTable(FIXTURE).join("\n"));
    expect(text).toContain(formatCrossCheck(FIXTURE));
    expect(text).toContain("1,051 pieces");
    expect(text).toContain("212 retries");
    expect(text).toContain("61 retransmissions of only what was missing — 55 found from the ACKs");
    expect(text).toMatch(/RTO was 10 ms \(SRTT 0\.41 ms\), the congestion window 7 segments/);
    expect(text).toContain("37× faster than one request at a time,");
    expect(text).toContain("2.0× TCP's time.");
    // The table is the widest part: 111 columns with the "UDP + sliding window" label.
    expect(text.split("\n").every((line) => line.length <= 111)).toBe(true);
    expect(text).not.toContain("time limit");
    expect(text).not.toContain("cross-check failed");
  });

  test("says when a row stopped at its time limit and when the cross-check failed", () => {
    const text = formatReport({
      ...FIXTURE,
      udpRetries: { ...FIXTURE.udpRetries, sent: 203, delivered: 203, timeLimited: true },
      crossCheck: { ...FIXTURE.crossCheck, ok: false },
    });
    expect(text).toContain("UDP + retries stopped at its time limit after 203 messages of 1,000.");
    expect(text).toContain("The cross-check failed");
  });
});

describe("toJson", () => {
  test("has the schema version, the settings, the rows, netsim's counts and the cross-check", () => {
    const json = toJson(FIXTURE);
    expect(json.schemaVersion).toBe(SCHEMA_VERSION);
    expect(Object.keys(json)).toEqual([
      "schemaVersion",
      "settings",
      "rows",
      "netsim",
      "crossCheck",
    ]);
    expect(json.rows).toMatchObject({
      tcp: { label: "TCP stream", retries: null, lost: 0 },
      udp: { label: "UDP datagrams", lost: 51 },
      udpRetries: { label: "UDP + retries", retries: 212, unanswered: 0, timeoutMs: 10 },
      udpWindow: { label: "UDP + sliding window", retries: 61, sender: FIXTURE.udpWindow.sender },
    });
    expect(json.netsim).toMatchObject({
      tcpStream: { chunking: "random pieces of 1–512 bytes", relayPieces: 1_051, clientWrites: 30 },
      udpLink: FIXTURE.udp.link,
      windowLink: FIXTURE.udpWindow.link,
    });
    // Plain data: it survives JSON unchanged.
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
