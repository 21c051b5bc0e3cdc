#!/usr/bin/env node
/**
 * A burst of connect() calls, all at once, to see listen()'s backlog at work (docs/tutorial.md,
 * "The queue: listen's backlog"). Each connection is reported when its handshake completes;
 * the connections stay open (saying nothing) until Ctrl-C closes them all.
 *
 *   pnpm tcp:server --backlog 5                          # terminal 1, then Ctrl-Z: no accept()
 *   node apps/tcp-echo/scripts/connect-burst.mjs         # terminal 2: 20 connects to :7000
 *   ss -ltn 'sport = :7000'                              # terminal 3: Recv-Q queued, Send-Q backlog
 *
 * The kernel completes the handshake for a connection, and queues it for accept(), even while
 * the server process is stopped: Linux queues backlog + 1 of them. It drops the SYNs of the
 * others, whose connect() then waits and sends its SYN again (after 1 s, 2 s, 4 s, …).
 * Flags: --host (127.0.0.1), --port (7000), --count (20). Loopback addresses only.
 */

import net from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "7000" },
    count: { type: "string", default: "20" },
  },
});
const { host } = values;
const port = Number(values.port);
const count = Number(values.count);
if (!Number.isInteger(port) || port < 1 || port > 65_535) {
  throw new RangeError(`--port must be 1-65535, got ${values.port}`);
}
if (!Number.isInteger(count) || count < 1 || count > 1_000) {
  throw new RangeError(`--count must be 1-1000, got ${values.count}`);
}
if (net.isIP(host) === 0 || !/^(127\.|::1$)/.test(host)) {
  throw new RangeError(`--host must be a loopback address, got ${host}`);
}

console.log(`${count} x connect() to ${host}:${port}, all at once`);
const sockets = [];
let connected = 0;
for (let i = 0; i < count; i++) {
  // socket + connect: returns at once; 'connect' comes when the handshake completes.
  const socket = net.connect({ host, port });
  socket.on("connect", () => {
    connected += 1;
    console.log(`connected ${connected} of ${count}`);
    if (connected === count) console.log(`all ${count} connected; Ctrl-C closes them`);
  });
  socket.on("error", (error) => console.log(`connect ${i + 1}: ${error.message}`));
  sockets.push(socket);
}

// close: every socket, connected or still waiting, then exit.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  });
}
