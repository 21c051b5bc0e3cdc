/**
 * Private: the timing rules every row follows, so that every wait has a bound.
 */

import { setImmediate as nextTurn } from "node:timers/promises";

export { nextTurn as _nextTurn };

/** Messages a row sends before it lets the event loop run (relays, receivers, the progress bar). */
export const BURST = 32;

/**
 * Time a row keeps sending, in ms. A row still sending after this stops, reports what it did
 * send, and is marked `timeLimited` (the request/response row under very heavy loss).
 */
export const SEND_LIMIT_MS = 30_000;

/**
 * How long a receiver may stay silent before the row stops waiting for more, in ms: the quiet
 * period after the last message. It ends the wait only when something other than netsim lost
 * datagrams; normally every datagram is accounted for long before.
 */
export const QUIET_MS = 250;

/**
 * Longest a sender waits for the link and the receiver to catch up before it sends on, in ms.
 * On loopback they catch up within a few turns of the event loop.
 */
export const WAIT_LIMIT_MS = 1_000;

/** How often the settle loop looks at the counters, in ms. */
const CHECK_MS = 1;

/**
 * Lets the event loop turn until `ready()` is true or `limitMs` has passed; false on timeout.
 * Used for back-pressure between bursts, where waits are short.
 */
export async function turnUntil(ready: () => boolean, limitMs: number): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  while (!ready()) {
    if (performance.now() > deadline) return false;
    await nextTurn();
  }
  return true;
}

/**
 * Waits until `done()` is true, or until `activity()` has not changed for `quietMs`: the
 * receiver has settled either way. Resolves true when `done()` became true.
 * @throws (rejects) `signal`'s reason when it fires first.
 */
export function settle(
  done: () => boolean,
  activity: () => number,
  quietMs: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let last = activity();
    let lastChange = performance.now();
    const check = () => {
      if (signal?.aborted === true) return reject(signal.reason);
      if (done()) return resolve(true);
      const now = performance.now();
      const current = activity();
      if (current !== last) {
        last = current;
        lastChange = now;
      } else if (now - lastChange >= quietMs) {
        return resolve(false);
      }
      setTimeout(check, CHECK_MS);
    };
    check();
  });
}

/** Throws the abort reason when `signal` has fired. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw signal.reason;
}
