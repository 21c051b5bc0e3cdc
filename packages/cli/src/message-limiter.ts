/**
 * A rate limit for log lines about peers' messages: a few lines per source and a few more in all
 * per window; the rest are counted, and reported as one summary line per source when the window
 * ends, when the source goes away, or when the program stops. A flood costs a counter, not a line.
 */

import { checkInteger } from "@socket-lab/core/internal";

/** Message lines shown per source per window. */
export const DEFAULT_LINES_PER_SOURCE = 10;
/** Message lines shown per window, all sources together. */
export const DEFAULT_LINES_PER_WINDOW = 50;
/** Length of a window, in ms. */
export const DEFAULT_LOG_WINDOW_MS = 1_000;
/** Sources counted one by one in a window; messages from more are counted together. */
export const DEFAULT_MAX_LOG_SOURCES = 1_000;
/** Summary lines, one per source, printed when a window ends; the rest are summed in one more. */
export const DEFAULT_MAX_SUMMARIES = 10;

/** Options of {@link createMessageLimiter}. */
export interface MessageLimiterOptions {
  /** Message lines shown per source per window. @default DEFAULT_LINES_PER_SOURCE (10) */
  perSource?: number;
  /** Message lines shown per window in all. @default DEFAULT_LINES_PER_WINDOW (50) */
  perWindow?: number;
  /** Length of a window, in ms; it starts with the first message after a quiet one. @default DEFAULT_LOG_WINDOW_MS (1,000) */
  windowMs?: number;
  /** Sources counted one by one; more are counted together as "other sources". @default DEFAULT_MAX_LOG_SOURCES (1,000) */
  maxSources?: number;
  /** Per-source summaries when a window ends; the rest are summed in one more. @default DEFAULT_MAX_SUMMARIES (10) */
  maxSummaries?: number;
}

/** Messages not shown: from one source, or summed over several (`source` undefined). */
export interface NotShown {
  /** The source, e.g. `127.0.0.1:5512`; undefined for a sum over several sources. */
  readonly source: string | undefined;
  /** For a sum: how many sources, when known (undefined: past `maxSources`, not counted). */
  readonly sources: number | undefined;
  /** Messages not shown. */
  readonly messages: number;
}

/** Decides which message lines are printed; see {@link createMessageLimiter}. */
export interface MessageLimiter {
  /** True when a line for this message of `source` may be printed; false counts it as not shown. */
  allow(source: string): boolean;
  /** Reports what was not shown from `source` (it went away) and forgets it; all sources without one. */
  flush(source?: string): void;
}

/**
 * Creates a limiter that calls `report` with each summary of messages not shown. Its window
 * timer never keeps the process alive; call `flush()` when stopping.
 * @throws {RangeError} naming an option that is not a whole number from 1.
 * @example
 * const limiter = createMessageLimiter({ perSource: 1 }, (s) => console.log(s));
 * limiter.allow("a"); //=> true
 * limiter.allow("a"); //=> false
 * limiter.flush("a");
 * //=> { source: 'a', sources: undefined, messages: 1 }
 */
export function createMessageLimiter(
  options: MessageLimiterOptions,
  report: (notShown: NotShown) => void,
): MessageLimiter {
  const {
    perSource = DEFAULT_LINES_PER_SOURCE,
    perWindow = DEFAULT_LINES_PER_WINDOW,
    windowMs = DEFAULT_LOG_WINDOW_MS,
    maxSources = DEFAULT_MAX_LOG_SOURCES,
    maxSummaries = DEFAULT_MAX_SUMMARIES,
  } = options;
  for (const [name, value] of Object.entries({
    perSource,
    perWindow,
    windowMs,
    maxSources,
    maxSummaries,
  })) {
    checkInteger(name, value, 1);
  }

  /** This window's counts by source: lines shown, messages not shown. */
  const counts = new Map<string, { shown: number; hidden: number }>();
  /** Messages not shown from sources past `maxSources`. */
  let othersHidden = 0;
  let shownInWindow = 0;
  let timer: NodeJS.Timeout | undefined;

  function endWindow(): void {
    clearTimeout(timer);
    timer = undefined;
    const hidden = [...counts].filter(([, count]) => count.hidden > 0);
    hidden.sort(([, a], [, b]) => b.hidden - a.hidden);
    for (const [source, { hidden: messages }] of hidden.slice(0, maxSummaries)) {
      report({ source, sources: undefined, messages });
    }
    const rest = hidden.slice(maxSummaries);
    const restMessages = rest.reduce((sum, [, count]) => sum + count.hidden, othersHidden);
    if (restMessages > 0) {
      report({
        source: undefined,
        sources: othersHidden > 0 ? undefined : rest.length,
        messages: restMessages,
      });
    }
    counts.clear();
    othersHidden = 0;
    shownInWindow = 0;
  }

  return {
    allow(source) {
      if (timer === undefined) {
        timer = setTimeout(endWindow, windowMs);
        timer.unref();
      }
      let count = counts.get(source);
      if (count === undefined) {
        if (counts.size >= maxSources) {
          othersHidden += 1;
          return false;
        }
        count = { shown: 0, hidden: 0 };
        counts.set(source, count);
      }
      if (count.shown < perSource && shownInWindow < perWindow) {
        count.shown += 1;
        shownInWindow += 1;
        return true;
      }
      count.hidden += 1;
      return false;
    },
    flush(source) {
      if (source === undefined) {
        endWindow();
        return;
      }
      const count = counts.get(source);
      if (count === undefined) return;
      counts.delete(source);
      if (count.hidden > 0) report({ source, sources: undefined, messages: count.hidden });
    },
  };
}
