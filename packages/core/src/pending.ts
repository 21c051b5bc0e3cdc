/**
 * Work an app started and must wait for before it stops: each client a server is serving.
 * Shared by the apps through `@socket-lab/core/cli`.
 */

/**
 * A set of promises still running; each leaves the set when it settles.
 * @example
 * const serving = new Pending();
 * // a server adds one promise per connection: serving.add(serve(connection))
 * for (const ms of [10, 20]) serving.add(new Promise((resolve) => setTimeout(resolve, ms)));
 * serving.size //=> 2
 * await serving.settled(); // every one has settled
 * serving.size //=> 0
 */
export class Pending {
  readonly #running = new Set<Promise<unknown>>();

  /** Promises still running. */
  get size(): number {
    return this.#running.size;
  }

  /** Adds a promise; a rejection is not reported here (the promise's owner handles it). */
  add(promise: Promise<unknown>): void {
    const tracked = promise.then(
      () => {},
      () => {},
    );
    this.#running.add(tracked);
    void tracked.finally(() => this.#running.delete(tracked));
  }

  /** Resolves once every promise added, including any added meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }
}
