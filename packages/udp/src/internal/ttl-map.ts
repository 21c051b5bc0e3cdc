/**
 * Private: a map whose entries expire after a fixed time (or never, with `Infinity`) and whose
 * size is capped, oldest entry out first. Every entry lives the same `ttlMs`, so insertion
 * order is expiry order and clearing expired entries only ever looks at the front.
 */
export class TtlMap<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #evicted = 0;

  /** `now` returns milliseconds on a monotonic clock; tests pass their own. */
  constructor(ttlMs: number, maxEntries: number, now: () => number = () => performance.now()) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    this.#now = now;
  }

  /** Entries held, expired ones not yet cleared included. */
  get size(): number {
    return this.#entries.size;
  }

  /** Unexpired entries pushed out by the size cap so far (each one forgotten early). */
  get evicted(): number {
    return this.#evicted;
  }

  /** The value of an unexpired entry, or `undefined`. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * Adds or replaces an entry, which expires `ttlMs` from now; evicts the oldest when full
   * (expired entries are cleared first, so an eviction always forgets a live entry).
   */
  set(key: K, value: V): void {
    const now = this.#now();
    for (const [oldKey, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(oldKey);
    }
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: now + this.#ttlMs });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) {
        this.#entries.delete(oldest.value);
        this.#evicted++;
      }
    }
  }
}
