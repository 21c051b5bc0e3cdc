/**
 * `@socket-lab/core/internal`: helpers the workspace's packages share. Not public API: names
 * here may change in any release.
 */

export {
  abortError,
  abortReason,
  checkSignal,
  onAbort,
  raceAbort,
  throwIfAborted,
} from "./abort.js";
export { backoffDelay } from "./backoff.js";
export { checkOnError, reportError, warnUnhandled } from "./report-error.js";
