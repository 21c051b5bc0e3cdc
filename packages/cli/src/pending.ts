/**
 * Work an app started and must wait for before it stops: each client a server is serving.
 * Shared by the apps through `@socket-lab/cli`.
 */

/**
 * A set of promises still running; each leaves the set when it settles.
 * @example
 * const serving = new Pending();
 * for await (const connection of server) serving.add(serve(connection));
 * await serving.settled(); // every serve() has returned
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
