/**
 * Round trips driven by callbacks, as raw ping clients and `each()` run them: no promise
 * per round trip.
 */

/** Where a run of round trips stands: how many are done; `reply()` counts one more. */
export interface Rounds {
  /** Call on each reply: times the round trip, then sends the next ping or finishes. */
  reply(): void;
  /** Round trips done so far. */
  readonly done: number;
}

/**
 * Sends a ping with `send()` now and after each `reply()`, until `count` round trips are done
 * or `deadlineMs` has passed; then hands their times, in ms, to `finish`.
 */
export function timedRounds(
  count: number,
  deadlineMs: number,
  send: () => void,
  finish: (rtts: Float64Array) => void,
): Rounds {
  const rtts = new Float64Array(count);
  const deadline = performance.now() + deadlineMs;
  let done = 0;
  let start = performance.now();
  send();
  return {
    reply: () => {
      const now = performance.now();
      rtts[done++] = now - start;
      if (done === count || now > deadline) {
        finish(rtts.subarray(0, done));
        return;
      }
      start = performance.now();
      send();
    },
    get done() {
      return done;
    },
  };
}
