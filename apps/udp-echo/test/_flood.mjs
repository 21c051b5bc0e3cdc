/**
 * A garbage flood from its own process, as an attacker would send it: random datagrams of
 * 1–200 bytes to 127.0.0.1:PORT, one after another for FLOOD_MS, then quiet for QUIET_MS, and
 * again, until COUNT are sent or it is killed. Tells its parent (IPC, when forked) "flooding"
 * once the first thousand are out.
 *
 * The quiet spells are for the test's own replies: a flood without them keeps the target's
 * receive buffer full whenever the target reads slower than this process sends (a busy
 * machine), and the kernel then drops every reply too, try after try (UDP promises nothing).
 *
 *   node test/_flood.mjs PORT [COUNT]
 */

import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { once } from "node:events";

const port = Number(process.argv[2]);
const count = Number(process.argv[3] ?? 1_000_000);
const socket = createSocket("udp4");
socket.bind(0, "127.0.0.1");
await once(socket, "listening");
const FLOOD_MS = 20;
const QUIET_MS = 20;
let sent = 0;
let burstStart = performance.now();
while (sent < count) {
  await new Promise((resolve) =>
    socket.send(randomBytes(1 + (sent % 200)), port, "127.0.0.1", resolve),
  );
  sent += 1;
  if (sent === 1_000) process.send?.("flooding");
  if (performance.now() - burstStart >= FLOOD_MS) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    burstStart = performance.now();
  }
}
socket.close();
process.disconnect?.();
