/**
 * Small promise helpers the transport shares; `deferred()` and `DONE` are in
 * `@socket-lab/core/internal`.
 */

export const noop = (): void => {};

/** One resolved promise to hand out again and again, allocating nothing. */
export const RESOLVED: Promise<void> = Promise.resolve();

/** A rejected promise that is marked handled: the caller may ignore it without a crash. */
export function rejectedHandled(error: unknown): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}
