/**
 * `@socket-lab/core/internal`: the toolkit the workspace's packages share — argument checks
 * with Node's codes, defaults applied once, a deferred promise, an O(1) queue and an async queue
 * with waiting readers, AbortSignal helpers, timers that decide after the waiting input.
 *
 * NOT PUBLIC API. It is exported only so that @socket-lab/tcp, udp, netsim, reliable-udp and the
 * workspace's apps share one copy; names and behaviour here may change in any release, without
 * a major version. Do not import it from your own code.
 */

export {
  abortError,
  abortReason,
  onAbort,
  raceAbort,
  throwIfAborted,
} from "./abort.js";
export { afterPendingInput, setTimeoutAfterInput } from "./after-input.js";
export {
  type ArgumentError,
  type ArgumentErrorCode,
  checkBoolean,
  checkFunction,
  checkInteger,
  checkMs,
  checkNumber,
  checkOneOf,
  checkSignal,
  checkString,
  invalidArgType,
  invalidArgValue,
  MAX_TIMER_MS,
  outOfRange,
} from "./arguments.js";
export { AsyncQueue, type AsyncQueueOptions } from "./async-queue.js";
export { backoffDelay } from "./backoff.js";
export { withDefaults } from "./defaults.js";
export { type Deferred, DONE, deferred } from "./deferred.js";
export { checkOnError, reportError, warnUnhandled } from "./report-error.js";
export { RingQueue } from "./ring-queue.js";
