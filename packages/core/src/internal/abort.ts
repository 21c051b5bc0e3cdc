/**
 * AbortSignal handling shared by tcp, udp and netsim (`@socket-lab/core/internal`, not public
 * API). One convention everywhere, the one `signal.throwIfAborted()` and `fetch()` follow: an
 * aborted call rejects with `signal.reason` — `controller.abort()` makes that a DOMException
 * named `AbortError`, `AbortSignal.timeout()` one named `TimeoutError`, `controller.abort(err)`
 * your `err` — or, for a signal aborted without a reason, an `AbortError` with
 * `code: "ABORT_ERR"` like the one Node's own callback APIs make.
 */

/** What a call cancelled by `signal` rejects with: its reason, or an `AbortError`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? abortError();
}

/** Node's `AbortError`: `name: "AbortError"`, `code: "ABORT_ERR"`. */
export function abortError(cause?: unknown): Error {
  const error = new Error(
    "The operation was aborted",
    cause === undefined ? undefined : { cause },
  ) as Error & { code: string };
  error.name = "AbortError";
  error.code = "ABORT_ERR";
  return error;
}

/** Throws {@link abortReason} when `signal` has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortReason(signal);
}

/**
 * Calls `listener` once when `signal` fires (at once, synchronously, if it already has);
 * returns a function that removes it. Nothing happens without a signal.
 */
export function onAbort(signal: AbortSignal | undefined, listener: () => void): () => void {
  if (signal === undefined) return noop;
  if (signal.aborted) {
    listener();
    return noop;
  }
  signal.addEventListener("abort", listener, { once: true });
  return () => signal.removeEventListener("abort", listener);
}

/**
 * `promise`, or a rejection with {@link abortReason} if `signal` fires first. Only the wait is
 * cancelled: what `promise` stands for goes on, and a later rejection of it is handled.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(noop);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const stop = onAbort(signal, () => {
      promise.catch(noop);
      reject(abortReason(signal));
    });
    promise.then(
      (value) => {
        stop();
        resolve(value);
      },
      (error: unknown) => {
        stop();
        reject(error);
      },
    );
  });
}

function noop(): void {}
