/** Whether a host is this machine's loopback interface, whose MTU (65,536) no datagram exceeds. */

import { isIP } from "node:net";

/**
 * `true` for `localhost`, 127.0.0.0/8, `::1` and 127.x mapped into IPv6 (`::ffff:127.0.0.1`).
 * @example
 * isLoopback("127.0.0.1") //=> true
 * isLoopback("192.0.2.1") //=> false
 */
export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  const v4 = host.startsWith("::ffff:") ? host.slice(7) : host;
  return isIP(v4) === 4 && v4.startsWith("127.");
}
