/**
 * The server patterns the README documents, each against a peer that resets its connection
 * mid-message: the process must not crash (no unhandled rejection), the other clients go on,
 * and every accepted socket is closed. Over 127.0.0.1, port 0.
 */

import { once } from "node:events";
import net from "node:net";
import { explain } from "@socket-lab/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Connection, connect, lengthPrefixed, listen, type Server } from "../src/index.js";
import { within } from "./_sockets.js";

/** The README's per-connection task: never rejects, always closes. */
async function serve(connection: Connection<Buffer>, errors: string[]): Promise<void> {
  try {
    for await (const frame of connection) {
      await connection.send(Buffer.from(`${frame.length} bytes`));
    }
  } catch (error) {
    errors.push(explain(error).code);
  } finally {
    await connection.close();
  }
}

/** A raw peer that sends half a frame, then resets (RST) its connection. */
async function resetMidFrame(server: Server<Buffer>): Promise<void> {
  const { port } = server.endpoint as { port: number };
  const socket = net.connect({ host: "127.0.0.1", port });
  await within(once(socket, "connect"), "the rude peer's connect");
  socket.write(Buffer.from([0, 0, 0, 10, 1, 2, 3]));
  socket.on("error", () => {});
  socket.resetAndDestroy();
  await within(once(socket, "close"), "the rude peer's close");
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
});

describe("documented server patterns against a resetting peer", () => {
  it.each([
    ["for await over the server, a task per connection", false],
    ["a handler", true],
  ] as const)(
    "%s: no crash, the reset is reported, the others are served, sockets are closed",
    async (_, useHandler) => {
      const errors: string[] = [];
      const tasks: Promise<void>[] = [];
      const server = await listen<Buffer>("tcp://127.0.0.1:0", {
        framing: lengthPrefixed(),
        handler: useHandler ? (connection) => serve(connection, errors) : undefined,
      });
      const serving = useHandler
        ? Promise.resolve()
        : (async () => {
            for await (const connection of server) tasks.push(serve(connection, errors));
          })();

      await resetMidFrame(server);
      await within(
        new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            if (errors.length > 0) resolve(clearInterval(poll));
          }, 5);
        }),
        "the reset to reach the connection's loop",
      );
      // The reset lands on a half-received frame: reported as a reset or a truncated frame.
      expect(errors).toHaveLength(1);
      expect(["ECONNRESET", "ERR_FRAME_TRUNCATED"]).toContain(errors[0]);

      const client = await connect<Buffer>(server.endpoint, { framing: lengthPrefixed() });
      await client.send(Buffer.alloc(3));
      const reply = await within(client[Symbol.asyncIterator]().next(), "the next client's reply");
      expect(String(reply.value)).toBe("3 bytes");
      await client.close();

      const closed = await within(server.close({ timeoutMs: 5_000 }), "the server's close");
      await within(serving, "the accept loop's end");
      await within(Promise.all(tasks), "every connection's task");
      expect(closed.destroyed).toBe(0);
      expect(server.connectionCount).toBe(0);
      // One turn of the loop lets a rejection nobody handled show up.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    },
  );
});
