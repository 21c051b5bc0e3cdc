import { checkFunction } from "./arguments.js";

/** The default error channel: an error that belongs to no caller and that nobody listens for. */
export function warnUnhandled(error: unknown, detail?: string): void {
  const { message, name, code, hint } = error as {
    message?: unknown;
    name?: unknown;
    code?: unknown;
    hint?: unknown;
  };
  const text = typeof message === "string" ? message : String(error);
  process.emitWarning(typeof hint === "string" ? `${text}. ${hint}` : text, {
    type: typeof name === "string" ? name : "Error",
    ...(typeof code === "string" ? { code } : {}),
    ...(detail === undefined ? {} : { detail }),
  });
}

/**
 * Hands an error that belongs to no caller to `onError` or, when there is none, to
 * {@link warnUnhandled}. A throwing `onError` is reported the same way, never thrown.
 */
export function reportError(
  onError: ((error: never) => void) | undefined,
  error: unknown,
  detail?: string,
): void {
  if (onError === undefined) {
    warnUnhandled(error, detail);
    return;
  }
  try {
    (onError as (error: unknown) => void)(error);
  } catch (thrown) {
    warnUnhandled(thrown);
  }
}

/**
 * Checks an `onError` option: a function, or `undefined`.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE`, naming the option and what it got.
 */
export function checkOnError(value: unknown, name = "onError"): void {
  if (value !== undefined) checkFunction(name, value);
}
