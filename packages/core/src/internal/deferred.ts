/** Promise helpers (`@socket-lab/core/internal`, not public API). */

/** A promise with its resolve and reject functions at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** A new {@link Deferred} (Node 20 has no `Promise.withResolvers`). */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The result of an async iterator that has ended. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({
  value: undefined,
  done: true,
});
