/**
 * udp-echo-client --loss --duplicate --reorder --seed: netsim's link in the client's process,
 * and a story per message that must agree with what the link says it did.
 */

import { afterEach, describe, expect, test } from "vitest";
import { run, startServer, stopAll } from "./_spawn.js";

afterEach(stopAll);

const COUNT = 12;

describe("udp-echo-client over netsim's lossy link", () => {
  test("a fixed seed: every drop the link made is a retry in the story, every send is counted by the link", async () => {
    const { port } = await startServer();
    const flags = ["--loss", "0.2", "--duplicate", "0.1", "--reorder", "0.1", "--seed", "7"];
    const args = ["--port", port, "--count", String(COUNT), "--timeout", "1", "--retries", "10"];
    const result = await run("client-cli", [...args, ...flags]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.trimEnd().split("\n");
    const netsim =
      /^netsim: to server (\d+) received, (\d+) dropped, (\d+) duplicated, (\d+) reordered; to client (\d+) received, (\d+) dropped, (\d+) duplicated, (\d+) reordered$/.exec(
        lines.at(-1) ?? "",
      );
    expect(netsim).not.toBeNull();
    const [toServer, dropped] = [Number(netsim?.[1]), Number(netsim?.[2])];
    const retries = lines.filter((line) => / no reply in time \(.*\): retry \d+$/.test(line));
    const droppedRetries = retries.filter((line) => line.includes("(request dropped)"));
    // Each datagram the client sent crossed the link: the first try of each message, and each retry.
    expect(toServer).toBe(COUNT + retries.length);
    // Each request the link dropped went unanswered, and the story says so at its retry.
    expect(dropped).toBeGreaterThan(0);
    expect(droppedRetries).toHaveLength(dropped);
    // Every message got its reply, in order, with the tries the retries add up to.
    const replies = lines.filter((line) => /^#\d+ reply: /.test(line));
    expect(
      replies.map((line) => /^#(\d+) reply: Hello from client (\d+)/.exec(line)?.slice(1)),
    ).toEqual(Array.from({ length: COUNT }, (_, i) => [String(i + 1), String(i + 1)]));
    expect(lines.at(-2)).toMatch(
      new RegExp(
        `^sent ${COUNT} messages to udp://127\\.0\\.0\\.1:${port} via netsim, got every reply in [\\d.]+ ms \\(${retries.length} retr(y|ies)\\)$`,
      ),
    );
    // A late copy the story shows is a datagram the link forwarded to the client.
    const late = lines.filter((line) => / a late reply to #\d+ ignored/.test(line));
    const toClientForwarded = Number(netsim?.[5]) - Number(netsim?.[6]) + Number(netsim?.[7]);
    expect(COUNT + late.length).toBeLessThanOrEqual(toClientForwarded);
  });

  test("--json: one record per retry, late copy and reply, then the link's counters", async () => {
    const { port } = await startServer();
    const result = await run("client-cli", [
      "--port",
      port,
      "-m",
      "hi",
      "--loss",
      "0",
      "--seed",
      "1",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const records = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(records).toMatchObject([
      { event: "reply", seq: 1, reply: "hi", tries: 1 },
      {
        event: "netsim",
        toServer: { received: 1, dropped: 0 },
        toClient: { received: 1, dropped: 0 },
      },
    ]);
  });

  test("the link's flags are checked, and refused with --reliable", async () => {
    expect(await run("client-cli", ["--loss", "1.5"])).toMatchObject({ code: 2 });
    expect(await run("client-cli", ["--reliable", "--loss", "0.1"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--loss, --duplicate, --reorder and --seed/),
    });
  });
});
