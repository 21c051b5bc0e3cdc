/**
 * A process that does not run for a while (a busy machine, a debugger, a GC pause) runs its due
 * timers before it reads its sockets. A timeout must not give up on a datagram that arrived in
 * time and only waits to be read: it decides after that turn's I/O.
 */

import { formatAddress } from "@socket-lab/core";
import { notRunning, withDeadlineNotYetDue } from "@socket-lab/test-utils/frozen";
import { expect, it } from "vitest";
import { createRequester, decodeRequestFrame, encodeRequestFrame } from "../src/index.js";
import { nextDatagram, useSockets } from "./_families.js";

const open = useSockets();

it("receive({ timeoutMs }): a datagram sent before the process stopped running is received", async () => {
  const receiver = await open("udp://127.0.0.1:0");
  const sender = await open("udp://127.0.0.1:0");
  const data = await withDeadlineNotYetDue(async (timeoutMs) => {
    const since = performance.now();
    const received = receiver.receive({ timeoutMs });
    await sender.send("in time", formatAddress(receiver.local));
    if (performance.now() - since >= timeoutMs) {
      await received.catch(() => {}); // this one may have timed out: set up again
      return undefined;
    }
    notRunning(3 * timeoutMs);
    return (await received).data.toString();
  });
  expect(data).toBe("in time");
});

it("a request whose reply arrived before the process stopped running resolves, with no retry", async () => {
  const server = await open("udp://127.0.0.1:0");
  const client = await open("udp://127.0.0.1:0");
  const requester = createRequester(client, { to: formatAddress(server.local) });
  const outcome = await withDeadlineNotYetDue(async (timeoutMs) => {
    const before = requester.stats;
    const since = performance.now();
    const replied = requester.request("ping", { retries: 1, backoff: { initialMs: timeoutMs } });
    const request = await nextDatagram(server);
    const { id } = decodeRequestFrame(request.data);
    await server.send(
      encodeRequestFrame({ kind: "reply", id }, "pong"),
      formatAddress(request.from),
    );
    if (performance.now() - since >= timeoutMs) {
      await replied.catch(() => {}); // it may have been sent again: set up again
      return undefined;
    }
    notRunning(3 * timeoutMs);
    const reply = (await replied).data.toString();
    return { reply, tries: requester.stats.tries - before.tries };
  });
  expect(outcome).toEqual({ reply: "pong", tries: 1 });
});
