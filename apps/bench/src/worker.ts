/**
 * A benchmark worker: one side (client or server) of one workload, in its own process, pinned
 * to its own CPU by the orchestrator (src/bench.ts). It becomes the role named by the first
 * call (`init`) and answers calls over the IPC channel until the channel closes.
 */

import { connectionClients, connectionServer } from "./connection-roles.js";
import { decoders } from "./decoder-roles.js";
import type { Call, InitArgs, Reply, Role } from "./role.js";
import { tcpEcho, tcpPing, tcpSink, tcpSource } from "./tcp-roles.js";
import { udpEcho, udpPing, udpSink, udpSource } from "./udp-roles.js";

const ROLES: Record<string, (options: never) => Role | Promise<Role>> = {
  "tcp-sink": tcpSink,
  "tcp-source": tcpSource,
  "tcp-echo": tcpEcho,
  "tcp-ping": tcpPing,
  "udp-sink": udpSink,
  "udp-source": udpSource,
  "udp-echo": udpEcho,
  "udp-ping": udpPing,
  decoders,
  "connection-server": connectionServer,
  "connection-clients": connectionClients,
};

if (process.send === undefined) {
  process.stderr.write("worker.js is started by the benchmark (dist/cli.js), not by hand\n");
  process.exit(2);
}

let role: Role | undefined;

async function answer(call: Call): Promise<unknown> {
  if (call.method === "init") {
    const { role: name, options } = call.args as InitArgs;
    const create = ROLES[name];
    if (create === undefined) throw new Error(`unknown role '${name}'`);
    role = await create(options as never);
    return null;
  }
  const method = role?.[call.method];
  if (method === undefined) throw new Error(`no method '${call.method}' in this role`);
  return (await method(call.args as never)) ?? null;
}

process.on("message", (call: Call) => {
  answer(call).then(
    (value) => process.send?.({ id: call.id, value } satisfies Reply),
    (error: unknown) => {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.send?.({ id: call.id, error: text } satisfies Reply);
    },
  );
});

// The orchestrator closes the channel when it is done with this worker (or has died): the
// sockets go with the process.
process.on("disconnect", () => process.exit(0));
