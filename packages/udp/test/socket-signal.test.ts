/**
 * AbortSignal on a UDP socket: `bind({ signal })` closes the socket when it fires (and undoes a
 * bind it interrupts), `send(data, to, { signal })` sends nothing once it has fired. Aborts
 * reject with the signal's reason.
 */

import type { TraceEvent } from "@socket-lab/core";
import { describe, expect, it } from "vitest";
import { bind } from "../src/index.js";
import { FAMILIES, nextDatagram, useSockets } from "./_families.js";

describe.each(FAMILIES)("AbortSignal over $name", (family) => {
  const open = useSockets();

  it("bind(): rejects with the reason and leaves the port free when it fires first", async () => {
    await expect(bind(family.anyPort, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: "AbortError",
    });
    const controller = new AbortController();
    const events: TraceEvent[] = [];
    const binding = bind(family.anyPort, {
      signal: controller.signal,
      trace: (event) => events.push(event),
    });
    const reason = new Error("changed my mind");
    controller.abort(reason);
    await expect(binding).rejects.toBe(reason);
    const bound = events.find((event) => event.type === "bind");
    expect(events.at(-1)?.type).toBe("close");
    // The port it had is free again: another socket binds it.
    if (bound?.type === "bind" && bound.local.transport !== "unix") {
      const { port } = bound.local;
      const again = await open(`udp://${family.name === "IPv6" ? "[::1]" : "127.0.0.1"}:${port}`);
      expect(again.local.port).toBe(port);
    }
    // @ts-expect-error: not a signal
    await expect(bind(family.anyPort, { signal: 1 })).rejects.toThrow(
      /"signal" option must be an instance of AbortSignal/,
    );
  });

  it("bind(): closes the socket when it fires later", async () => {
    const controller = new AbortController();
    const socket = await open(family.anyPort, { signal: controller.signal });
    const reading = socket[Symbol.asyncIterator]().next();
    controller.abort();
    expect(await reading).toEqual({ value: undefined, done: true });
    await expect(socket.send("late", socket.local)).rejects.toMatchObject({
      code: "ERR_SOCKET_CLOSED",
    });
  });

  it("send(): sends nothing once the signal has fired, and sends as usual before", async () => {
    const receiver = await open(family.anyPort);
    const sender = await open(family.anyPort);
    const reason = new Error("stop");
    const error = await sender
      .send("never", receiver.local, { signal: AbortSignal.abort(reason) })
      .catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(sender.pendingSends).toBe(0);
    await sender.send("sent", receiver.local, { signal: new AbortController().signal });
    expect(sender.stats.datagramsSent).toBe(1);
    expect((await nextDatagram(receiver)).data.toString()).toBe("sent");
    await expect(
      // @ts-expect-error: not a signal
      sender.send("x", receiver.local, { signal: "no" }),
    ).rejects.toThrow(/"options.signal" property must be an instance of AbortSignal/);
  });
});
