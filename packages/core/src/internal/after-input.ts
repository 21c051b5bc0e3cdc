/**
 * Deadlines that decide after the input already waiting has been read. A process that did not
 * run for a while (a busy machine, a GC pause, a debugger) runs its due timers first in the
 * event loop's turn, before the poll phase reads its sockets: a timer deciding there would
 * give up on bytes, a datagram, a drain or a connect that came in time and only waits to be
 * read. `setImmediate` runs after that poll phase, in the same turn.
 */

/** Runs `fn(...args)` once this turn's waiting input has been read (`setImmediate`). */
export function afterPendingInput<A extends unknown[]>(fn: (...args: A) => void, ...args: A): void {
  setImmediate(fn, ...args);
}

/**
 * `setTimeout(fn, ms)` whose `fn` runs after the input waiting when the timer fires has been
 * read. Cancel it with `clearTimeout` before it fires; after, `fn` must check that it still
 * has something to decide.
 */
export function setTimeoutAfterInput(fn: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(afterPendingInput, ms, fn);
}
