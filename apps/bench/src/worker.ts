/**
 * A benchmark worker: one side (client or server) of one workload, in its own process, pinned
 * to its own CPU by the orchestrator (src/bench.ts). It becomes the role named by the first
 * call (`init`) and answers calls over the IPC channel until the channel closes.
 */

import type { Call, InitArgs, Reply, Role } from "./role.js";

type RoleFactory = (options: never) => Role | Promise<Role>;

// Loaded on demand: a worker only needs its own role's modules, and starts faster without
// the rest (the decoders pull in three npm packages).
const ROLES: Record<string, () => Promise<RoleFactory>> = {
  "tcp-sink": async () => (await import("./tcp-roles.js")).tcpSink,
  "tcp-source": async () => (await import("./tcp-roles.js")).tcpSource,
  "udp-sink": async () => (await import("./udp-roles.js")).udpSink,
  "udp-source": async () => (await import("./udp-roles.js")).udpSource,
  "echo-servers": async () => (await import("./pingpong-roles.js")).echoServers,
  pingers: async () => (await import("./pingpong-roles.js")).pingers,
  decoders: async () => (await import("./decoder-roles.js")).decoders,
  "connection-server": async () => (await import("./connection-roles.js")).connectionServer,
  "connection-clients": async () => (await import("./connection-roles.js")).connectionClients,
  "web-server": async () => (await import("./web-roles.js")).webServer,
  "http-load": async () => (await import("./web-roles.js")).httpLoad,
  "reliable-scenarios": async () => (await import("./reliable-roles.js")).reliableScenarios,
};

if (process.send === undefined) {
  process.stderr.write("worker.js is started by the benchmark (dist/cli.js), not by hand\n");
  process.exit(2);
}

let role: Role | undefined;

async function answer(call: Call): Promise<unknown> {
  if (call.method === "init") {
    const { role: name, options } = call.args as InitArgs;
    const load = ROLES[name];
    if (load === undefined) throw new Error(`unknown role '${name}'`);
    const create = await load();
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
