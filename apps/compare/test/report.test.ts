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
      "kernel",
    ]);
    expect(json.kernel).toBeNull();
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

describe("under kernel loss", () => {
  const kernelRow = (
    tcp: number,
    tcpDropped: number,
    udp: number,
    udpDropped: number,
    retrans: number,
  ) => ({
    tcp: { packets: tcp, dropped: tcpDropped },
    udp: { packets: udp, dropped: udpDropped },
    observedLoss: (tcpDropped + udpDropped) / (tcp + udp),
    retransSegs: retrans,
    retransmitsAtMs: Array.from({ length: retrans }, (_, i) => i * 3),
    tcpInfoRetransmits: tcp > 0 ? retrans - 1 : null,
  });
  const result = {
    ...FIXTURE,
    settings: { ...FIXTURE.settings, kernelLoss: 0.05 },
    udp: { ...FIXTURE.udp, duplicated: 0, outOfOrder: 0 },
    crossCheck: { lost: 51, dropped: 51, duplicated: 0, duplicatesInjected: 0, ok: true },
    kernel: {
      loss: 0.05,
      mtu: 1500,
      rows: {
        tcp: kernelRow(286, 13, 0, 0, 13),
        udp: kernelRow(0, 0, 1_000, 51, 0),
        udpRetries: kernelRow(0, 0, 2_246, 134, 0),
      },
    },
  };

  test("says the kernel dropped the packets, with a table of what it did per row", () => {
    const text = formatReport(result);
    expect(text).toMatch(/^1,000 messages of 256 bytes over each transport\n/);
    expect(text).toContain(
      "loopback (MTU 1,500) drops 5% of TCP and UDP packets\n        at random;",
    );
    expect(text).not.toContain("netsim injected");
    expect(text).toContain(
      [
        "the kernel            packets  dropped  observed (asked 5%)  RetransSegs  tcp_info retrans",
        "TCP stream                286       13                 4.5%           13                12",
        "UDP datagrams           1,000       51                 5.1%            0                 –",
        "UDP + retries           2,246      134                   6%            0                 –",
      ].join("\n"),
    );
    expect(text).toContain(
      "cross-check: receiver saw 51 lost, 0 duplicated; the kernel dropped 51 UDP datagrams ✓",
    );
    expect(text.replaceAll("\n", " ")).toContain(
      "though the kernel dropped 13 packets of its 286: TCP noticed and retransmitted 13 segments",
    );
    expect(text.split("\n").every((line) => line.length <= 111)).toBe(true);
    expect(text).toContain("exactly the ones the kernel dropped");
  });

  test("--json has the kernel's figures per row, without the timelines", () => {
    const json = toJson(result) as { kernel: { rows: Record<string, Record<string, unknown>> } };
    expect(json.kernel).toMatchObject({ loss: 0.05, mtu: 1500 });
    expect(json.kernel.rows.tcp).toEqual({
      tcp: { packets: 286, dropped: 13 },
      udp: { packets: 0, dropped: 0 },
      observedLoss: 13 / 286,
      retransSegs: 13,
      tcpInfoRetransmits: 12,
    });
  });
});
