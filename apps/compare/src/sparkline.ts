/**
 * The terminal's picture of arrival order: one line per row, each character a slice of the
 * messages in the order they were sent, as tall as the share of them that arrived once and in
 * order. TCP is a flat bar; UDP dips where messages were lost, came late or came twice.
 */

import { arrivalOrder } from "./arrival-order.js";
import type { Comparison } from "./compare.js";
import { ROW_IDS, ROW_LABELS } from "./settings.js";

/** Characters per sparkline. */
export const SPARKLINE_WIDTH = 60;

/** From nothing to everything: a space, then eighths of a block. */
const LEVELS = " ▁▂▃▄▅▆▇█";

/**
 * The sparkline of every row, under a line saying how to read them.
 * @example
 * import { runComparison } from "./compare.js";
 * const result = await runComparison({ count: 200, seed: 7 });
 * for (const line of formatSparklines(result)) console.log(line);
 * //=> arrival order, the messages as sent in 60 slices: █ once and in order; lower: lost, late or twice
 * //=> TCP stream            ████████████████████████████████████████████████████████████
 * //=> UDP datagrams         ▅████▆█▂██▅███████████▅█████▂███▆██▄██▆█████████████▅▆█▅█▅█▆
 * //=> UDP + retries         ████████████████████████████████████████████████████████████
 * //=> UDP + sliding window  ████████████████████████████████████████████████████████████
 */
export function formatSparklines(result: Comparison, width = SPARKLINE_WIDTH): string[] {
  const labelWidth = Math.max(...ROW_IDS.map((id) => ROW_LABELS[id].length));
  return [
    `arrival order, the messages as sent in ${width} slices: █ once and in order; lower: lost, late or twice`,
    ...ROW_IDS.map((id) => {
      const row = result[id];
      return `${ROW_LABELS[id].padEnd(labelWidth)}  ${sparkline(row.arrivals, row.sent, width)}`;
    }),
  ];
}

/**
 * One sparkline: `width` characters (fewer when fewer messages were sent).
 * @example
 * sparkline({ seq: [0, 1, 3, 2], atMs: [0, 0, 0, 0] }, 4, 4) //=> "██ █"
 */
export function sparkline(
  arrivals: Parameters<typeof arrivalOrder>[0],
  sent: number,
  width = SPARKLINE_WIDTH,
): string {
  const { fates, duplicated } = arrivalOrder(arrivals, sent);
  const columns = Math.min(width, sent);
  let line = "";
  for (let c = 0; c < columns; c++) {
    const from = Math.floor((c * sent) / columns);
    const to = Math.floor(((c + 1) * sent) / columns);
    let clean = 0;
    for (let seq = from; seq < to; seq++) {
      if (fates[seq] === "inOrder" && !duplicated.has(seq)) clean++;
    }
    // Any trouble shows: a slice with one bad message in a hundred is a step lower, not full.
    const level =
      clean === to - from
        ? LEVELS.length - 1
        : Math.min(LEVELS.length - 2, Math.floor((clean / (to - from)) * (LEVELS.length - 1)));
    line += LEVELS[level];
  }
  return line;
}

/**
 * Whether to print sparklines: on a terminal (`isTTY`) whose locale speaks UTF-8, and not with
 * `NO_COLOR` set (which asks for today's plain output).
 */
export function sparklinesWanted(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale);
}
