/**
 * One shape for capped exponential backoff, used by tcp `connect()` and udp `request()`.
 */

/**
 * The waits between tries: wait n (from 0) is `min(initialMs × factor^n, maxMs)`. tcp
 * `connect()` waits that long after a failed attempt; udp `request()` waits that long for a
 * reply before it sends again. A field left out takes the field of the caller's default
 * (`DEFAULT_CONNECT_BACKOFF` in tcp, `DEFAULT_REQUEST_BACKOFF` in udp).
 * @example
 * const backoff: BackoffOptions = { initialMs: 50, factor: 2, maxMs: 400 };
 * // waits 50, 100, 200, 400, 400, … ms
 */
export interface BackoffOptions {
  /** The first wait, in ms. */
  initialMs?: number;
  /** What each wait is multiplied by for the next one; 1 waits the same every time. */
  factor?: number;
  /** Longest wait, in ms. */
  maxMs?: number;
}
