/**
 * An output for log lines that can neither grow the process nor take it down: past a cap of
 * bytes waiting in the stream, lines are dropped and counted instead of queued; when the stream
 * fails (EPIPE: `server | head -1` and `head` has exited), printing stops and the program goes on.
 */

import type { Writable } from "node:stream";
import { checkInteger } from "@socket-lab/core/internal";

/** Bytes that may wait in an output stream before lines are dropped. */
export const DEFAULT_MAX_QUEUED_OUTPUT_BYTES = 64 * 1024;

/** Options of {@link createLineOutput}. */
export interface LineOutputOptions {
  /**
   * Most bytes waiting in the stream (its `writableLength`: written, not yet taken by the pipe's
   * reader); a line that would pass it is dropped and counted. A terminal or a file is written
   * synchronously by Node, so nothing waits there and nothing is dropped.
   * @default DEFAULT_MAX_QUEUED_OUTPUT_BYTES (65,536)
   */
  maxQueuedBytes?: number;
  /** Called once when the stream fails, e.g. with EPIPE; nothing is written after it. */
  onClose?: (error: Error) => void;
  /** Called when the stream has caught up ('drain') after lines were dropped, with their count. */
  onCatchUp?: (dropped: number) => void;
}

/** Counters of a {@link LineOutput}. */
export interface LineOutputStats {
  /** Writes passed to the stream. */
  readonly written: number;
  /** Writes dropped: over `maxQueuedBytes`, or after the stream closed. */
  readonly dropped: number;
  /** True once the stream has failed or ended. */
  readonly closed: boolean;
}

/** Where log lines go; see {@link createLineOutput}. */
export interface LineOutput {
  /**
   * Writes `text` (whole lines, with their `\n`), or drops it; true when written. With
   * `always`, past `maxQueuedBytes` too (a program's last line: it then waits for it to be
   * taken before it exits); a closed stream still drops it.
   */
  write(text: string, options?: { always?: boolean }): boolean;
  readonly stats: LineOutputStats;
}

/**
 * Wraps a stream for log lines: it never holds more than `maxQueuedBytes` in the stream, and an
 * 'error' on it (EPIPE, EBADF, …) stops printing instead of becoming an uncaught exception.
 * @throws {RangeError} when `maxQueuedBytes` is not a whole number from 1.
 * @example
 * const out = createLineOutput(process.stdout, { onClose: () => console.error("stdout closed") });
 * out.write("127.0.0.1:5512 connected\n"); //=> true
 */
export function createLineOutput(stream: Writable, options: LineOutputOptions = {}): LineOutput {
  const { maxQueuedBytes = DEFAULT_MAX_QUEUED_OUTPUT_BYTES, onClose, onCatchUp } = options;
  checkInteger("maxQueuedBytes", maxQueuedBytes, 1);
  const stats = { written: 0, dropped: 0, closed: false };
  let droppedSinceDrain = 0;

  const close = (error: Error) => {
    if (stats.closed) return;
    stats.closed = true;
    onClose?.(error);
  };
  stream.on("error", close);
  stream.on("drain", () => {
    if (droppedSinceDrain === 0 || stats.closed) return;
    const dropped = droppedSinceDrain;
    droppedSinceDrain = 0;
    onCatchUp?.(dropped);
  });

  return {
    stats,
    write(text, { always = false } = {}) {
      if (stats.closed || stream.destroyed || stream.writableEnded) {
        stats.dropped += 1;
        return false;
      }
      if (!always && stream.writableLength + Buffer.byteLength(text) > maxQueuedBytes) {
        stats.dropped += 1;
        droppedSinceDrain += 1;
        return false;
      }
      stats.written += 1;
      // The callback sees a failed write too; 'error' (above) is what stops printing.
      stream.write(text, () => {});
      return true;
    },
  };
}
