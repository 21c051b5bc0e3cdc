/**
 * What `pnpm demo` prints: the table, the cross-check and a plain-language summary for
 * people, or one JSON document (schema version 1, described in the README) for machines.
 */

import type { Comparison } from "./compare.js";
import type { RowResult } from "./internal/row.js";
import type { KernelReport } from "./kernel-watch.js";
import { describeChunking, ROW_IDS, ROW_LABELS, type RowId } from "./settings.js";
import { formatSparklines } from "./sparkline.js";

/** Version of the `--json` document; raised whenever a field changes meaning or goes away. */
export const SCHEMA_VERSION = 1;

const ROWS = ROW_IDS;

/** The columns of the table: heading (a "\n" splits it over two lines), and the cell of a row. */
const COLUMNS: ReadonlyArray<readonly [string, (row: RowResult) => string]> = [
  ["sent", (row) => int(row.sent)],
  ["delivered", (row) => int(row.delivered)],
  ["lost", (row) => int(row.lost)],
  ["duplicated", (row) => int(row.duplicated)],
  ["out of\norder", (row) => int(row.outOfOrder)],
  ["retries", (row) => (row.retries === null ? "–" : int(row.retries))],
  ["elapsed", (row) => duration(row.elapsedMs)],
  ["msg/s", (row) => int(row.messagesPerSecond)],
  ["p50\nlatency", (row) => (row.latencyMs === null ? "–" : `${row.latencyMs.p50.toFixed(2)} ms`)],
  ["p99\nlatency", (row) => (row.latencyMs === null ? "–" : `${row.latencyMs.p99.toFixed(2)} ms`)],
];

/**
 * The report for people: what ran, the table, the cross-check, and what it means.
 * @example
 * import { runComparison } from "./compare.js";
 * const report = formatReport(await runComparison({ count: 200, seed: 7 }));
 * report.startsWith("\n") //=> false
 */
export function formatReport(result: Comparison, extra: ReportExtras = {}): string {
  return [
    ...formatHeader(result),
    "",
    ...formatTable(result),
    ...(result.kernel === null ? [] : ["", ...formatKernelTable(result.kernel)]),
    ...(extra.sparklines === true ? ["", ...formatSparklines(result)] : []),
    "",
    formatCrossCheck(result),
    "",
    ...formatSummary(result),
  ]
    .join("\n")
    .concat("\n");
}

/** What {@link formatReport} can add. */
export interface ReportExtras {
  /** A sparkline of arrival order per row (for terminals that speak Unicode). @default false */
  readonly sparklines?: boolean;
}

/** The lines saying what ran: the workload, then what the network did. */
export function formatHeader(result: Comparison): string[] {
  const { settings, kernel } = result;
  const { count, size, loss, duplicate, reorder, delayMs, jitterMs, seed, chunking } = settings;
  if (kernel !== null) {
    return [
      `${counted(count, "message")} of ${counted(size, "byte")} over each transport`,
      `kernel: in a network namespace of its own, loopback (MTU ${int(kernel.mtu)}) drops ${percent(kernel.loss)} of TCP and UDP packets`,
      "        at random; no netsim: every row sends straight to its server",
    ];
  }
  const delay =
    delayMs + jitterMs === 0
      ? "no delay"
      : `${delayMs} ms delay${jitterMs > 0 ? ` + 0–${jitterMs} ms jitter` : ""}`;
  return [
    `${counted(count, "message")} of ${counted(size, "byte")} over each transport, seed ${seed}`,
    `netsim: the UDP link drops ${percent(loss)}, duplicates ${percent(duplicate)} and reorders ${percent(reorder)} of datagrams, ${delay};`,
    `        the TCP relay re-cuts the byte stream into ${describeChunking(chunking, size)}`,
  ];
}

/** The table alone: two heading lines, then one line per row, numbers right-aligned. */
export function formatTable(result: Comparison): string[] {
  const labelWidth = Math.max(...ROWS.map((id) => ROW_LABELS[id].length));
  // A one-line heading sits on the lower line, next to the second half of the two-line ones.
  const headings = COLUMNS.map(([heading]) => {
    const [top = "", bottom = ""] = heading.includes("\n") ? heading.split("\n") : ["", heading];
    return [top, bottom] as const;
  });
  const cells = ROWS.map((id) => COLUMNS.map(([, cell]) => cell(result[id])));
  const widths = headings.map(([top, bottom], i) =>
    Math.max(top.length, bottom.length, ...cells.map((row) => (row[i] as string).length)),
  );
  const line = (label: string, row: readonly string[]) =>
    [label.padEnd(labelWidth), ...row.map((cell, i) => cell.padStart(widths[i] as number))]
      .join("  ")
      .trimEnd();
  return [
    line(
      "",
      headings.map(([top]) => top),
    ),
    line(
      "",
      headings.map(([, bottom]) => bottom),
    ),
    ...ROWS.map((id, i) => line(ROW_LABELS[id], cells[i] as string[])),
  ];
}

/**
 * The cross-check line: the UDP receiver's counts against what netsim says it did.
 * @example
 * import { runComparison } from "./compare.js";
 * const result = await runComparison({ count: 200, seed: 7 });
 * formatCrossCheck(result)
 * //=> "cross-check: receiver saw 8 lost, 4 duplicated; netsim injected 8 drops, 4 duplicates ✓"
 */
export function formatCrossCheck(result: Comparison): string {
  const { lost, dropped, duplicated, duplicatesInjected, ok } = result.crossCheck;
  if (result.kernel !== null) {
    return `cross-check: receiver saw ${int(lost)} lost, ${int(duplicated)} duplicated; the kernel dropped ${counted(dropped, "UDP datagram")} ${ok ? "✓" : "✗"}`;
  }
  return `cross-check: receiver saw ${int(lost)} lost, ${int(duplicated)} duplicated; netsim injected ${counted(dropped, "drop")}, ${counted(duplicatesInjected, "duplicate")} ${ok ? "✓" : "✗"}`;
}

/**
 * Under kernel loss, what the kernel did in each row's turn: packets, drops, the share observed
 * beside the share asked, and TCP's retransmitted segments (RetransSegs and tcp_info).
 */
export function formatKernelTable(kernel: KernelReport): string[] {
  const header = [
    "the kernel",
    "packets",
    "dropped",
    `observed (asked ${percent(kernel.loss)})`,
    "RetransSegs",
    "tcp_info retrans",
  ];
  const rows = ROWS.map((id) => {
    const k = kernel.rows[id];
    if (k === undefined) return [ROW_LABELS[id], "–", "–", "–", "–", "–"];
    return [
      ROW_LABELS[id],
      int(k.tcp.packets + k.udp.packets),
      int(k.tcp.dropped + k.udp.dropped),
      k.observedLoss === null ? "–" : percent(k.observedLoss),
      int(k.retransSegs),
      k.tcpInfoRetransmits === null ? "–" : int(k.tcpInfoRetransmits),
    ];
  });
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 0 ? cell.padEnd(widths[0] as number) : cell.padStart(widths[i] as number),
      )
      .join("  ")
      .trimEnd();
  return [
    line(header),
    ...rows.map(line),
    "(TCP and UDP packets of each row's turn; RetransSegs: TCP segments the kernel sent again, from",
    "/proc/net/snmp; tcp_info retrans: the same as the row's sockets counted them, through ss -ti)",
  ];
}

function formatSummary(result: Comparison): string[] {
  const { tcp, udp, udpRetries: retry, settings } = result;
  const lines: string[] = [];
  const all = (row: RowResult) =>
    row.delivered === 0 && row.sent > 0
      ? `nothing arrived: none of the ${int(row.sent)} messages`
      : row.lost === 0 && row.duplicated === 0 && row.outOfOrder === 0
        ? `all ${int(row.delivered)} messages arrived, each once and in order`
        : `${int(row.delivered)} of ${int(row.sent)} messages arrived, ${int(row.duplicated)} twice, ${int(row.outOfOrder)} out of order`;
  if (result.kernel !== null) return formatKernelSummary(result, all);
  lines.push(
    `TCP: ${all(tcp)}. The client wrote the ${int(tcp.stream.bytes)} bytes in ${counted(tcp.stream.clientWrites, "write")}, the relay re-cut them into ${counted(tcp.stream.relayPieces, "piece")}, the server read them in ${counted(tcp.stream.serverReads, "read")}: a stream has no message boundaries. The 4-byte length in front of each message found every message again, and TCP kept the bytes complete and in order.`,
  );
  const troubled = udp.lost + udp.duplicated + udp.outOfOrder > 0;
  lines.push(
    nothingArrived(udp)
      ? `UDP: nothing arrived: all ${int(udp.sent)} datagrams were lost, and nothing sent them again. Datagrams promise nothing more.`
      : troubled
        ? `UDP: every datagram that arrived was one whole message — no framing needed — but ${int(udp.lost)} were lost (${percent(udp.lost / udp.sent)}), ${int(udp.duplicated)} came twice and ${int(udp.outOfOrder)} after a later one (netsim held back ${int(udp.link.reordered)}). Datagrams promise nothing more.`
        : "UDP: every datagram arrived, whole, once and in order — because the link was told to leave them alone, not because UDP promises it.",
  );
  // No ratio and no latency for a row that delivered nothing: there is no time to compare.
  const slower =
    tcp.messagesPerSecond > 0 && !nothingArrived(retry)
      ? tcp.messagesPerSecond / Math.max(1, retry.messagesPerSecond)
      : 0;
  const p99 = retry.latencyMs === null ? "–" : `${retry.latencyMs.p99.toFixed(2)} ms`;
  lines.push(
    nothingArrived(retry)
      ? unanswered(retry, all)
      : retry.retries === 0
        ? `UDP + retries: ${all(retry)}, with no retry needed${pace(slower, "but")}.`
        : `UDP + retries: ${all(retry)}, at a price: ${counted(retry.retries, "retry", "retries")}, each after waiting ${retry.timeoutMs} ms or more for a reply that did not come, so the slowest 1% took ${p99}${pace(slower, "and")}.`,
  );
  lines.push(windowSummary(result, all));
  for (const id of ROWS) {
    if (result[id].timeLimited) {
      lines.push(
        `${ROW_LABELS[id]} stopped at its time limit after ${counted(result[id].sent, "message")} of ${int(settings.count)}.`,
      );
    }
  }
  if (!result.crossCheck.ok) {
    lines.push(
      "The cross-check failed: datagrams went missing outside netsim (a full socket buffer on a very busy machine?). Run again, or with a smaller --count.",
    );
  }
  return lines.flatMap((text) => ["", ...wrap(text, 100)]).slice(1);
}

/** The summary under kernel loss: the same lesson, with drops nobody chose. */
function formatKernelSummary(result: Comparison, all: (row: RowResult) => string): string[] {
  const { tcp, udp, udpRetries: retry } = result;
  const kernel = result.kernel as KernelReport;
  const k = kernel.rows.tcp;
  const p99 = (row: RowResult) =>
    row.latencyMs === null ? "–" : `${row.latencyMs.p99.toFixed(2)} ms`;
  const lines = [
    k === undefined
      ? `TCP: ${all(tcp)}.`
      : `TCP: ${all(tcp)}, though the kernel dropped ${counted(k.tcp.dropped, "packet")} of its ${int(k.tcp.packets)}: TCP noticed and retransmitted ${counted(k.retransSegs, "segment")} itself (RetransSegs), and the waits show in its p99 latency of ${p99(tcp)}. Nothing was taken from it for good.`,
    udp.lost + udp.duplicated + udp.outOfOrder > 0
      ? `UDP: ${int(udp.lost)} of ${int(udp.sent)} datagrams were lost (${percent(udp.lost / Math.max(udp.sent, 1))}) — exactly the ones the kernel dropped — and nothing sent them again. Datagrams promise nothing more.`
      : "UDP: every datagram arrived — the kernel happened to drop none of them, not because UDP promises it.",
    nothingArrived(retry)
      ? unanswered(retry, all)
      : `UDP + retries: ${all(retry)}, with ${counted(retry.retries, "retry", "retries")} after waits of ${retry.timeoutMs} ms or more; the slowest 1% took ${p99(retry)}.`,
    windowSummary(result, all),
  ];
  if (!result.crossCheck.ok) {
    lines.push(
      "The cross-check failed: the UDP receiver missed datagrams the kernel did not drop (a full socket buffer on a very busy machine?). Run again, or with a smaller --count.",
    );
  }
  return lines.flatMap((text) => ["", ...wrap(text, 100)]).slice(1);
}

/** The sliding window row's sentence: what it resent, and its RTO and windows at the end. */
function windowSummary(result: Comparison, all: (row: RowResult) => string): string {
  const { udpWindow: row, udpRetries: retry, tcp } = result;
  const s = row.sender;
  if (row.sent === 0) return "UDP + sliding window: could not connect: no SYN_ACK came back.";
  const resent =
    s.retransmissions === 0
      ? "with no retransmission needed"
      : `with ${counted(s.retransmissions, "retransmission")} of only what was missing — ${int(s.fastRetransmits)} found from the ACKs of later segments, and the RTO ran out ${counted(s.timeouts, "time")}`;
  const faster =
    retry.elapsedMs > 0 && row.elapsedMs > 0 && !nothingArrived(retry) && !nothingArrived(row)
      ? ` It took ${duration(row.elapsedMs)}: ${times(retry.elapsedMs / row.elapsedMs)} faster than one request at a time, ${times(row.elapsedMs / Math.max(tcp.elapsedMs, 0.1))} TCP's time.`
      : "";
  return `UDP + sliding window: ${all(row)}, many in flight at once, ${resent}. At the end the RTO was ${s.rtoMs} ms (SRTT ${s.srttMs.toFixed(2)} ms), the congestion window ${counted(s.cwnd, "segment")} (ssthresh ${int(s.ssthresh)}) and the receiver's window ${int(s.peerWindow)}.${faster}`;
}

/** The request row's sentence when no message arrived: how often it tried, and no figures. */
function unanswered(retry: Comparison["udpRetries"], all: (row: RowResult) => string): string {
  return `UDP + retries: ${all(retry)}, though it sent them again ${counted(retry.retries, "time")}, each after waiting ${retry.timeoutMs} ms or more for a reply that never came.`;
}

/** Whether a row sent messages and none of them arrived: no latency, no rate to compare. */
function nothingArrived(row: RowResult): boolean {
  return row.sent > 0 && row.delivered === 0;
}

/** A ratio in words: "12×", "1.4×". */
function times(ratio: number): string {
  return `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1)}×`;
}

/**
 * The `--json` document (schema version {@link SCHEMA_VERSION}): the settings, one object per
 * row with the table's columns, what netsim did, and the cross-check.
 */
export function toJson(result: Comparison): Record<string, unknown> {
  const { settings, tcp, udp, udpRetries, udpWindow, crossCheck } = result;
  const row = (id: RowId, r: RowResult) => ({
    label: ROW_LABELS[id],
    sent: r.sent,
    delivered: r.delivered,
    lost: r.lost,
    duplicated: r.duplicated,
    outOfOrder: r.outOfOrder,
    retries: r.retries,
    elapsedMs: r.elapsedMs,
    messagesPerSecond: r.messagesPerSecond,
    latencyMs: r.latencyMs,
    timeLimited: r.timeLimited,
  });
  return {
    schemaVersion: SCHEMA_VERSION,
    settings,
    rows: {
      tcp: row("tcp", tcp),
      udp: row("udp", udp),
      udpRetries: {
        ...row("udpRetries", udpRetries),
        unanswered: udpRetries.unanswered,
        timeoutMs: udpRetries.timeoutMs,
        repeatsAnswered: udpRetries.repeatsAnswered,
      },
      udpWindow: { ...row("udpWindow", udpWindow), sender: udpWindow.sender },
    },
    netsim: {
      tcpStream: { chunking: describeChunking(settings.chunking, settings.size), ...tcp.stream },
      udpLink: udp.link,
      retryLink: udpRetries.link,
      windowLink: udpWindow.link,
    },
    crossCheck,
    kernel: result.kernel === null ? null : kernelJson(result.kernel),
  };
}

/** The kernel's figures without the timelines (those are for the pictures). */
function kernelJson(kernel: KernelReport) {
  const rows: Record<string, unknown> = {};
  for (const id of ROWS) {
    const k = kernel.rows[id];
    if (k === undefined) continue;
    const { retransmitsAtMs: _, ...figures } = k;
    rows[id] = figures;
  }
  return { loss: kernel.loss, mtu: kernel.mtu, rows };
}

function int(n: number): string {
  return n.toLocaleString("en-US");
}

/** A count with its noun: "1 retry", "1,000 messages". */
function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${int(n)} ${n === 1 ? noun : plural}`;
}

/** The request row's rate against TCP's (`slower` is TCP's over its), when worth saying. */
function pace(slower: number, joint: string): string {
  return slower >= 2
    ? `, ${joint} one request at a time ran ${Math.round(slower)} times slower than TCP`
    : "";
}

function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(1))}%`;
}

function duration(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(2)} s`;
}

/** Breaks `text` into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
