/** Defaults applied once (`@socket-lab/core/internal`, not public API). */

/**
 * `{ ...defaults, ...options }`, except that a field given as `undefined` keeps its default, as
 * its optional type promises (callers often pass optional flags on as they are).
 * @example
 * withDefaults({ port: 7000, host: "127.0.0.1" }, { port: undefined, host: "::1" })
 * //=> { port: 7000, host: "::1" }
 */
export function withDefaults<D extends object, O extends object>(
  defaults: D,
  options: O | undefined,
): D & Omit<O, keyof D> {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as D & Omit<O, keyof D>;
}
