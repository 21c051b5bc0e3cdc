/**
 * `pnpm demo --html report.html`: one self-contained page — inline SVG and CSS, no script, no
 * fetch — with three pictures per row of the comparison:
 *
 *   arrival order   x = the order sent, y = the order received: one dot per receipt. TCP is a
 *                   clean diagonal; UDP shows gaps for losses (red ticks under the axis), dots
 *                   off the diagonal for reordering, two dots in one column for a duplicate.
 *   latency (CDF)   the share of messages delivered within x ms (log scale, the same for all).
 *   timeline        messages delivered over time, with a tick for each resend: the row's own
 *                   retries, and under kernel loss the segments TCP retransmitted.
 */

import { arrivalOrder } from "./arrival-order.js";
import type { Comparison } from "./compare.js";
import type { RowResult } from "./internal/row.js";
import type { KernelRowCounts } from "./kernel-watch.js";
import { formatCrossCheck, formatHeader, formatTable } from "./report.js";
import { ROW_IDS, ROW_LABELS, type RowId } from "./settings.js";

/** Most receipts an arrival plot draws; past it every k-th is drawn, and every late or repeat. */
export const MAX_PLOTTED_ARRIVALS = 5_000;
/** Most points of a timeline's delivery curve. */
const MAX_CURVE_POINTS = 500;

const WIDTH = 340;
const HEIGHT = 240;
const MARGIN = { left: 48, right: 12, top: 12, bottom: 40 } as const;
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/** One colour per row, in ROW_IDS order (more rows reuse them). */
const ROW_COLOURS = ["#1f6fb2", "#2a9d5c", "#b5651d", "#7b4fb0", "#3b8ea5", "#9c6b30"];

/**
 * The page for a finished comparison.
 * @example Fragment: writes report.html after a whole comparison (`runComparison` of compare.ts)
 * await writeFile("report.html", renderHtml(await runComparison()));
 */
export function renderHtml(result: Comparison): string {
  const latencies = ROW_IDS.flatMap((id) => result[id].latencyCdfMs).filter((ms) => ms > 0);
  const domain: [number, number] = [Math.min(...latencies, 0.01), Math.max(...latencies, 0.1)];
  const sections = ROW_IDS.map((id, i) =>
    rowSection(id, result[id], ROW_COLOURS[i % ROW_COLOURS.length] as string, domain, result),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>socket-lab compare: where each message went</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 0 0 4px; }
pre { font: 12px/1.35 ui-monospace, monospace; background: #f6f6f4; padding: 10px; overflow-x: auto; }
section.row { border-top: 1px solid #ddd; padding: 12px 0; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; }
figcaption { font-size: 12px; color: #555; max-width: ${WIDTH}px; }
svg { background: #fcfcfb; border: 1px solid #e4e4e0; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
.axis { stroke: #888; stroke-width: 1; }
.diagonal { stroke: #ccc; stroke-dasharray: 3 3; }
.late { fill: #e8590c; }
.repeat { fill: #9c36b5; }
.lost { stroke: #d62828; stroke-width: 1; }
.resend { stroke: #d62828; stroke-width: 1; }
.retransmit { stroke: #9c36b5; stroke-width: 1; }
.legend span { display: inline-block; margin-right: 14px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
</style>
</head>
<body>
<h1>Where each message went</h1>
<pre>${escapeHtml([...formatHeader(result), "", ...formatTable(result), "", formatCrossCheck(result)].join("\n"))}</pre>
<p class="legend">
<span><i class="swatch" style="background:#1f6fb2"></i>received in order (each row its own colour)</span>
<span><i class="swatch" style="background:#e8590c"></i>received late (after a later one)</span>
<span><i class="swatch" style="background:#9c36b5"></i>received again (a duplicate)</span>
<span><i class="swatch" style="background:#d62828"></i>lost (tick under the axis) or resent (tick on the timeline)</span>
</p>
${sections.join("\n")}
</body>
</html>
`;
}

function rowSection(
  id: RowId,
  row: RowResult,
  colour: string,
  domain: [number, number],
  result: Comparison,
): string {
  const kernel = result.kernel?.rows[id];
  return `<section class="row" data-row="${id}">
<h2>${escapeHtml(ROW_LABELS[id])}</h2>
<p>${escapeHtml(describe(row, kernel, result.kernel?.loss))}</p>
<div class="plots">
${arrivalPlot(id, row, colour)}
${cdfPlot(id, row, colour, domain)}
${timelinePlot(id, row, colour, kernel)}
</div>
</section>`;
}

function describe(row: RowResult, kernel: KernelRowCounts | undefined, asked?: number): string {
  const parts = [
    `${int(row.delivered)} of ${int(row.sent)} delivered`,
    `${int(row.lost)} lost`,
    `${int(row.duplicated)} twice`,
    `${int(row.outOfOrder)} out of order`,
  ];
  if (row.retries !== null) parts.push(`${int(row.retries)} retries`);
  if (kernel !== undefined && asked !== undefined) {
    const observed = kernel.observedLoss === null ? "–" : percent(kernel.observedLoss);
    const packets = kernel.tcp.packets + kernel.udp.packets;
    const dropped = kernel.tcp.dropped + kernel.udp.dropped;
    parts.push(
      `the kernel dropped ${int(dropped)} of ${int(packets)} packets (${observed}; asked ${percent(asked)})`,
    );
    if (kernel.retransSegs > 0) parts.push(`TCP retransmitted ${int(kernel.retransSegs)} segments`);
  }
  return `${parts.join(", ")}.`;
}

/** x = the order sent, y = the order received; one dot per receipt, ticks for the lost. */
function arrivalPlot(id: RowId, row: RowResult, colour: string): string {
  const { seq } = row.arrivals;
  const order = arrivalOrder(row.arrivals, row.sent);
  const n = Math.max(row.sent, seq.length, 2);
  const x = (s: number) => MARGIN.left + (s / (n - 1)) * PLOT_W;
  const y = (r: number) => MARGIN.top + PLOT_H - (r / (n - 1)) * PLOT_H;
  const every = Math.max(1, Math.ceil(seq.length / MAX_PLOTTED_ARRIVALS));
  const radius = n <= 300 ? 2.2 : n <= 2_000 ? 1.5 : 1;
  const dots: string[] = [];
  // The late and the repeated are drawn last, larger, so the diagonal does not hide them.
  const marked: string[] = [];
  for (let r = 0; r < seq.length; r++) {
    const kind = order.repeat[r] ? "repeat" : order.late[r] ? "late" : "";
    const at = `cx="${fixed(x(seq[r] as number))}" cy="${fixed(y(r))}"`;
    if (kind !== "") marked.push(`<circle ${at} r="${radius + 1.5}" class="${kind}"/>`);
    else if (r % every === 0) dots.push(`<circle ${at} r="${radius}" fill="${colour}"/>`);
  }
  dots.push(...marked);
  const lost: string[] = [];
  order.fates.forEach((fate, s) => {
    if (fate === "lost") {
      const at = fixed(x(s));
      lost.push(
        `<line class="lost" x1="${at}" x2="${at}" y1="${MARGIN.top + PLOT_H + 3}" y2="${MARGIN.top + PLOT_H + 11}"/>`,
      );
    }
  });
  return figure(
    `<svg class="plot" data-plot="arrivals" data-row="${id}" data-points="${dots.length}" data-lost="${lost.length}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(ROW_LABELS[id])}: arrival order">
${axes("order sent →", "order received →", "0", int(n - 1), "0", int(n - 1))}
<line class="diagonal" x1="${x(0)}" y1="${y(0)}" x2="${x(n - 1)}" y2="${y(n - 1)}"/>
<g class="lost-ticks">${lost.join("")}</g>
<g class="points">${dots.join("")}</g>
</svg>`,
    every === 1
      ? "Arrival order: one dot per receipt."
      : `Arrival order: every ${every}th receipt, and every late or repeated one.`,
  );
}

/** The share of messages delivered within x ms. */
function cdfPlot(id: RowId, row: RowResult, colour: string, [min, max]: [number, number]): string {
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  const x = (ms: number) =>
    MARGIN.left + ((Math.log10(Math.max(ms, min)) - lo) / (hi - lo || 1)) * PLOT_W;
  const y = (share: number) => MARGIN.top + PLOT_H - share * PLOT_H;
  const cdf = row.latencyCdfMs;
  const points = cdf.map((ms, p) => `${fixed(x(ms))},${fixed(y(p / 100))}`).join(" ");
  const curve =
    cdf.length === 0
      ? `<text x="${MARGIN.left + 8}" y="${MARGIN.top + 16}">nothing delivered</text>`
      : `<polyline class="cdf" points="${points}" fill="none" stroke="${colour}" stroke-width="2"/>`;
  return figure(
    `<svg class="plot" data-plot="cdf" data-row="${id}" data-points="${cdf.length}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(ROW_LABELS[id])}: latency distribution">
${axes("one-way latency, ms (log) →", "share delivered →", ms(min), ms(max), "0", "1")}
${curve}
</svg>`,
    "Latency: the share of messages delivered within x ms (same scale for every row).",
  );
}

/** Messages delivered over time, with a tick per resend. */
function timelinePlot(
  id: RowId,
  row: RowResult,
  colour: string,
  kernel: KernelRowCounts | undefined,
): string {
  const { seq, atMs } = row.arrivals;
  const resends = row.resendsAtMs ?? [];
  // The axis ends with the last delivery or resend; the kernel may go on retransmitting a
  // FIN while the row closes its sockets, and those are counted below the plot instead.
  const end = Math.max(...atMs, ...resends, 1);
  const retransmits = (kernel?.retransmitsAtMs ?? []).filter((at) => at <= end);
  const closing = (kernel?.retransmitsAtMs.length ?? 0) - retransmits.length;
  const x = (ms: number) => MARGIN.left + (ms / end) * PLOT_W;
  const y = (count: number) => MARGIN.top + PLOT_H - (count / Math.max(row.sent, 1)) * PLOT_H;
  // The delivery curve: distinct messages received by each time.
  const seen = new Set<number>();
  const curve: string[] = [`${fixed(x(0))},${fixed(y(0))}`];
  const every = Math.max(1, Math.ceil(seq.length / MAX_CURVE_POINTS));
  for (let r = 0; r < seq.length; r++) {
    seen.add(seq[r] as number);
    if (r % every === 0 || r === seq.length - 1) {
      curve.push(`${fixed(x(atMs[r] as number))},${fixed(y(seen.size))}`);
    }
  }
  const tick = (kind: string, at: number, top: number) =>
    `<line class="${kind}" x1="${fixed(x(at))}" x2="${fixed(x(at))}" y1="${top}" y2="${top + 7}"/>`;
  const base = MARGIN.top + PLOT_H + 3;
  const notes = [
    ...(resends.length + retransmits.length === 0 ? ["no resends"] : []),
    ...(closing > 0 ? [`+${int(closing)} retransmitted while closing`] : []),
  ];
  const note = notes
    .map(
      (text, i) =>
        `<text x="${MARGIN.left + PLOT_W - 4}" y="${MARGIN.top + PLOT_H - 8 - 14 * i}" text-anchor="end">${escapeHtml(text)}</text>`,
    )
    .join("");
  return figure(
    `<svg class="plot" data-plot="timeline" data-row="${id}" data-resends="${resends.length}" data-retransmits="${retransmits.length}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(ROW_LABELS[id])}: timeline">
${axes("time, ms →", "delivered →", "0", ms(end), "0", int(row.sent))}
<polyline class="delivered" points="${curve.join(" ")}" fill="none" stroke="${colour}" stroke-width="2"/>
<g class="resends">${resends.map((at) => tick("resend", at, base)).join("")}</g>
<g class="retransmits">${retransmits.map((at) => tick("retransmit", at, base + 9)).join("")}</g>
${note}
</svg>`,
    kernel === undefined
      ? "Timeline: messages delivered; red ticks: the row's own resends."
      : "Timeline: messages delivered; red ticks: the row's own resends; purple: TCP segments the kernel retransmitted.",
  );
}

function axes(
  xTitle: string,
  yTitle: string,
  xFrom: string,
  xTo: string,
  yFrom: string,
  yTo: string,
): string {
  const bottom = MARGIN.top + PLOT_H;
  const right = MARGIN.left + PLOT_W;
  return `<line class="axis" x1="${MARGIN.left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>
<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}"/>
<text x="${MARGIN.left}" y="${bottom + 22}">${escapeHtml(xFrom)}</text>
<text x="${right}" y="${bottom + 22}" text-anchor="end">${escapeHtml(xTo)}</text>
<text x="${MARGIN.left + PLOT_W / 2}" y="${bottom + 34}" text-anchor="middle">${escapeHtml(xTitle)}</text>
<text x="${MARGIN.left - 4}" y="${bottom}" text-anchor="end">${escapeHtml(yFrom)}</text>
<text x="${MARGIN.left - 4}" y="${MARGIN.top + 9}" text-anchor="end">${escapeHtml(yTo)}</text>
<text transform="translate(12 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yTitle)}</text>`;
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fixed(n: number): string {
  return n.toFixed(1);
}

function int(n: number): string {
  return n.toLocaleString("en-US");
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toPrecision(2);
}

function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(1))}%`;
}
