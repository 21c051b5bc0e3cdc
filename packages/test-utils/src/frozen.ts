/**
 * For tests of what a deadline does when the process did not run for a while (a busy machine,
 * a GC pause, a debugger): on waking, Node runs its due timers before it reads its sockets, so
 * a deadline must decide after that turn's I/O, where bytes that came in time may be waiting.
 *
 * @example Fragment: a test; `start` sets up a connection with the deadline, `send` the bytes
 * const line = await withDeadlineNotYetDue(async (timeoutMs) => {
 *   const since = performance.now(); // before the deadline's clock can start
 *   const { connection } = await start({ idleTimeoutMs: timeoutMs });
 *   if (performance.now() - since >= timeoutMs) return undefined; // too slow to set up: again
 *   send("hello\n");
 *   notRunning(3 * timeoutMs);
 *   return connection.receive();
 * });
 */

/** Blocks this thread for `ms`, as a process that is not scheduled is (bounded: it ends). */
export function notRunning(ms: number): void {
  const since = performance.now();
  while (performance.now() - since < ms) {
    // the kernel goes on: loopback delivers what was sent just before
  }
}

/** The deadlines tried, in ms: short first, longer when the machine was too slow for one. */
const DEADLINES_MS = [50, 400, 3_200] as const;

/**
 * Runs `scenario` with each deadline of 50, 400 and 3,200 ms until it returns something other
 * than `undefined`, and resolves with that. A scenario returns `undefined` when its deadline
 * could already have passed before it froze the process (it was too slow to set up, on a busy
 * machine): the test would prove nothing then.
 * @throws {Error} when no deadline was long enough.
 */
export async function withDeadlineNotYetDue<T>(
  scenario: (timeoutMs: number) => Promise<T | undefined>,
): Promise<T> {
  for (const timeoutMs of DEADLINES_MS) {
    const result = await scenario(timeoutMs);
    if (result !== undefined) return result;
  }
  throw new Error(`the scenario could not be set up within ${DEADLINES_MS.at(-1)} ms`);
}
