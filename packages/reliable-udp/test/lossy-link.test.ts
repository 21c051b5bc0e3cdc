import { startLossyLink } from "@socket-lab/netsim";
import fc from "fast-check";
import { expect, test } from "vitest";
import { connect } from "../src/index.js";
import { echoServer, FAST } from "./_peers.js";

/** A rate from 0 to `max` %, in whole percents. */
const percent = (max: number) => fc.integer({ min: 0, max }).map((p) => p / 100);

test("property: through a seeded lossy link, what arrives equals what was sent, both ways", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        loss: percent(20),
        duplicate: percent(10),
        reorder: percent(20),
        count: fc.integer({ min: 1, max: 150 }),
        size: fc.integer({ min: 0, max: 1_000 }),
      }),
      async ({ seed, loss, duplicate, reorder, count, size }) => {
        const { server } = await echoServer();
        await using link = await startLossyLink({
          target: server.endpoint,
          loss,
          duplicate,
          reorder,
          seed,
        });
        const connection = await connect(link.endpoint, FAST);
        const sent = Array.from({ length: count }, (_, i) =>
          `${i}:`.padEnd(size, String.fromCharCode(97 + (i % 26))),
        );
        const got: string[] = [];
        const reader = (async () => {
          for await (const reply of connection) {
            got.push(reply.toString());
            if (got.length === count) break;
          }
        })();
        for (const message of sent) await connection.send(message);
        await reader;
        // Closing is not what is tested: bounded, so a lost last FIN costs at most this.
        await connection.close({ timeoutMs: 2_000 });
        await server.close({ timeoutMs: 2_000 });
        expect(got).toEqual(sent);
      },
    ),
    { numRuns: 8, seed: 20_261_206 },
  );
}, 600_000); // eight seeded runs at up to 20% loss: minutes when the CPUs are busy

test("the demo's impairments (5 % loss, 2 % duplication, 5 % reordering): 1,000 × 256 B arrive once, in order", async () => {
  const { server } = await echoServer();
  await using link = await startLossyLink({
    target: server.endpoint,
    loss: 0.05,
    duplicate: 0.02,
    reorder: 0.05,
    seed: 1,
    directions: "to-server",
    onDecision: ({ direction, bytes, decision }) => {
      // A datagram packs several segments of a 28-byte header, a 2-byte length and 256 B.
      if (direction === "to-server" && decision.drop) droppedMessages += Math.round(bytes / 286);
    },
  });
  let droppedMessages = 0;
  const connection = await connect(link.endpoint, FAST);
  const sent = Array.from({ length: 1_000 }, (_, i) => `${i}`.padStart(256, "-"));
  const got: string[] = [];
  const reader = (async () => {
    for await (const reply of connection) {
      got.push(reply.toString());
      if (got.length === sent.length) break;
    }
  })();
  for (const message of sent) await connection.send(message);
  await reader;
  expect(got).toEqual(sent);
  const stats = connection.stats;
  const dropped = link.stats.toServer.dropped;
  // Drops were repaired by retransmissions, and selective repeat resends the messages dropped
  // (as many as dropped in runs on a busy machine; a tail-loss probe or a late timer may add
  // one); go-back-N would resend a whole window (up to 256 messages) per loss, several times
  // the messages' count here.
  const counts = JSON.stringify({ dropped, droppedMessages, ...stats });
  expect(stats.retransmissions, counts).toBeGreaterThan(0);
  expect(stats.retransmissions, counts).toBeLessThan(2 * droppedMessages + sent.length / 4);
  await connection.close({ timeoutMs: 2_000 });
  await server.close({ timeoutMs: 2_000 });
});

test("5 % loss on the way out, replies on the way back: what arrives twice was sent again for nothing", async () => {
  // Echoed replies carry the ACKs: each datagram of them reports at most 4 SACK ranges, while
  // one turn's datagrams at 5 % loss can make more. A range never reported is taken for lost
  // and sent again; so is everything outstanding when a stalled event loop runs the RTO timer
  // before it reads the ACK already waiting. Both once made most retransmissions needless.
  const { server, connections } = await echoServer();
  let droppedMessages = 0;
  await using link = await startLossyLink({
    target: server.endpoint,
    loss: 0.05,
    seed: 1,
    directions: "to-server",
    onDecision: ({ direction, bytes, decision }) => {
      if (direction === "to-server" && decision.drop) droppedMessages += Math.round(bytes / 286);
    },
  });
  const connection = await connect(link.endpoint, FAST);
  const sent = Array.from({ length: 1_000 }, (_, i) => `${i}`.padStart(256, "-"));
  let replies = 0;
  const reader = (async () => {
    for await (const _ of connection) if (++replies === sent.length) break;
  })();
  for (const message of sent) await connection.send(message);
  await reader;
  const needless = connections[0]?.stats.duplicatesReceived;
  const counts = JSON.stringify({ droppedMessages, needless, ...connection.stats });
  expect(connection.stats.retransmissions, counts).toBeGreaterThan(0);
  // The link duplicates nothing: every segment the server got twice was sent again needlessly.
  expect(needless, counts).toBeLessThan(10 + droppedMessages / 4);
  await connection.close({ timeoutMs: 2_000 });
  await server.close({ timeoutMs: 2_000 });
});
