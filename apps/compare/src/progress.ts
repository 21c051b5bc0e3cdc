/**
 * The progress bar `pnpm demo` draws on stderr while it runs — only on a terminal: piped or
 * redirected, stderr gets no bar at all, so logs and captured output stay clean.
 */

import type { Writable } from "node:stream";

/** Shows how far a run is. */
export interface Progress {
  /** `done` of `total` messages of the row called `label` have been sent. */
  update(label: string, done: number, total: number): void;
  /** Removes the bar, leaving the line empty for what is printed next. */
  clear(): void;
}

/** Redraws at most this often, in ms: often enough to look alive, rarely enough to cost nothing. */
const REDRAW_MS = 50;
/** Width of the bar itself, in characters. */
const BAR_WIDTH = 30;

/**
 * A progress bar on `stream` when it is a terminal (`isTTY`), otherwise `undefined`.
 * @example
 * const progress = createProgress(process.stderr);
 * progress?.update("udp (datagram)", 512, 1000);
 * // udp (datagram)   [███████████████░░░░░░░░░░░░░░░]    512/1,000
 */
export function createProgress(stream: Writable & { isTTY?: boolean }): Progress | undefined {
  if (stream.isTTY !== true) return undefined;
  let lastDraw = 0;
  let lastLabel = "";
  return {
    update(label, done, total) {
      const now = performance.now();
      // Always draw a row's first and last step; in between, at most every REDRAW_MS.
      if (label === lastLabel && done < total && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      lastLabel = label;
      stream.write(`\r${formatBar(label, done, total)}\u001b[K`);
    },
    clear() {
      if (lastLabel !== "") stream.write("\r\u001b[K");
    },
  };
}

/**
 * One frame of the bar, without the carriage return.
 * @example
 * formatBar("tcp (stream)", 250, 1000, 8) //=> "tcp (stream)     [██░░░░░░]     250/1,000"
 */
export function formatBar(label: string, done: number, total: number, width = BAR_WIDTH): string {
  const filled = total === 0 ? width : Math.min(width, Math.floor((done / total) * width));
  const counts = `${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}`;
  return `${label.padEnd(16)} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${counts.padStart(13)}`;
}
