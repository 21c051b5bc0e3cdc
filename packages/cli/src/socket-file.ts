/**
 * Unix domain socket files, as the apps report them. Shared through `@socket-lab/cli`.
 */

import { lstat } from "node:fs/promises";

/**
 * True when a unix socket file exists at `path`. A server that then listens there has replaced
 * it: @socket-lab/tcp's `listen` removes a socket file only when nothing answers on it (a
 * server that is gone), so the app can say so.
 * @example
 * import { once } from "node:events";
 * import { createServer } from "node:net";
 * const path = `/tmp/socket-file-example-${process.pid}.sock`;
 * await isSocketFile(path) //=> false
 * const server = createServer().listen(path); // a server killed now would leave this file
 * await once(server, "listening");
 * await isSocketFile(path) //=> true
 * server.close(); // closing removes it
 */
export async function isSocketFile(path: string): Promise<boolean> {
  const stats = await lstat(path).catch(() => undefined);
  return stats?.isSocket() === true;
}

/** The line a server prints when it replaced a stale socket file. */
export function staleSocketReplaced(path: string): string {
  return `replaced ${path}: a socket file left by a server that is gone (nothing answered on it)`;
}
