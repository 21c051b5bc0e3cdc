import type { BackoffOptions } from "../backoff.js";

/** Wait number `n` (from 0) of a backoff whose fields are all set, in ms. */
export function backoffDelay(backoff: Required<BackoffOptions>, n: number): number {
  return Math.min(backoff.initialMs * backoff.factor ** n, backoff.maxMs);
}
