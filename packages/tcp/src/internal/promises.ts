/**
 * Small promise helpers the transport shares.
 */

/** A promise with its resolve and reject functions at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const noop = (): void => {};

/** One resolved promise to hand out again and again, allocating nothing. */
export const RESOLVED: Promise<void> = Promise.resolve();

/** The result of an async iterator that has ended. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({
  value: undefined,
  done: true,
});

/** A rejected promise that is marked handled: the caller may ignore it without a crash. */
export function rejectedHandled(error: unknown): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}
