/** Options with defaults, as the apps' `startServer` and `runClient` take them. */

/**
 * `{ ...defaults, ...options }`, except that an option given as `undefined` keeps its default, so
 * a command can pass its optional flags on as they are.
 * @example
 * withDefaults({ port: 7000 }, { port: undefined }) //=> { port: 7000 }
 */
export function withDefaults<D extends object, O extends object>(
  defaults: D,
  options: O,
): D & Omit<O, keyof D> {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as D & Omit<O, keyof D>;
}
