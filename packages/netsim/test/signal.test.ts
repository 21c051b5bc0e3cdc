/**
 * AbortSignal on netsim's relays: fired before they are bound, `start…()` rejects with the
 * signal's reason and nothing stays bound; fired later, the relay closes as `close()` does.
 */

import { once } from "node:events";
import net from "node:net";
import type { TraceEvent } from "@socket-lab/core";
import { describe, expect, it } from "vitest";
import { startChunkingRelay, startLossyLink } from "../src/index.js";
import { until } from "./_sockets.js";

/** Trace events, and the port of the first `bind`. */
function traced() {
  const events: TraceEvent[] = [];
  return {
    events,
    trace: (event: TraceEvent) => events.push(event),
    boundPort: () => {
      const bind = events.find((event) => event.type === "bind");
      return bind?.type === "bind" && bind.local.transport !== "unix" ? bind.local.port : 0;
    },
  };
}

describe("startLossyLink({ signal })", () => {
  it("rejects with the reason, and binds nothing, when it fires first", async () => {
    const target = "udp://127.0.0.1:9";
    await expect(startLossyLink({ target, signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: "AbortError",
    });
    const controller = new AbortController();
    const { events, trace } = traced();
    const starting = startLossyLink({ target, signal: controller.signal, trace });
    const reason = new Error("not now");
    controller.abort(reason);
    await expect(starting).rejects.toBe(reason);
    // Seen before the socket was made (the host is looked up first), or undone after bind.
    const count = (type: string) => events.filter((event) => event.type === type).length;
    expect(count("close")).toBe(count("bind"));
    // A signal aborted with null: Node's AbortError, as from every package.
    const none = new AbortController();
    const unexplained = startLossyLink({ target, signal: none.signal });
    none.abort(null);
    await expect(unexplained).rejects.toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
    // @ts-expect-error: not a signal
    await expect(startLossyLink({ target, signal: {} })).rejects.toThrow(
      /^The "signal" option must be an instance of AbortSignal/,
    );
  });

  it("closes the link when it fires later", async () => {
    const controller = new AbortController();
    const { events, trace } = traced();
    const link = await startLossyLink({
      target: "udp://127.0.0.1:9",
      signal: controller.signal,
      trace,
    });
    expect(link.endpoint.port).toBeGreaterThan(0);
    controller.abort();
    await until(() => events.some((event) => event.type === "close"), "the link to close");
    await link.close(); // the same close: it resolves
  });
});

describe("startChunkingRelay({ signal })", () => {
  it("rejects with the reason, and listens nowhere, when it fires first", async () => {
    const target = "tcp://127.0.0.1:9";
    await expect(startChunkingRelay({ target, signal: AbortSignal.abort() })).rejects.toMatchObject(
      { name: "AbortError" },
    );
    const controller = new AbortController();
    const { boundPort, trace } = traced();
    const starting = startChunkingRelay({ target, signal: controller.signal, trace });
    const reason = new Error("not now");
    controller.abort(reason);
    await expect(starting).rejects.toBe(reason);
    const none = new AbortController();
    const unexplained = startChunkingRelay({ target, signal: none.signal });
    none.abort(null);
    await expect(unexplained).rejects.toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
    const refused = net.connect({ host: "127.0.0.1", port: boundPort() });
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
  });

  it("closes the relay when it fires later: connecting is then refused", async () => {
    const controller = new AbortController();
    const { events, trace } = traced();
    const relay = await startChunkingRelay({
      target: "tcp://127.0.0.1:9",
      signal: controller.signal,
      trace,
    });
    controller.abort();
    await until(() => events.some((event) => event.type === "close"), "the relay to close");
    const port = relay.endpoint.transport === "unix" ? 0 : relay.endpoint.port;
    const refused = net.connect({ host: "127.0.0.1", port });
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
  });
});
