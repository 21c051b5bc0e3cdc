/**
 * Faults and defaults on real sockets: a flood of garbage datagrams while valid requests
 * arrive, and the security defaults checked as the values themselves.
 */

import { formatAddress } from "@socket-lab/core";
import { describe, expect, it, vi } from "vitest";
import {
  createRequester,
  encodeRequestFrame,
  type RequestHandler,
  serveRequests,
} from "../src/index.js";
import { useSockets, WAIT_MS } from "./_families.js";

/** A deterministic pseudo-random generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `count` datagrams that are not requests: random bytes, headers cut short, the wrong magic,
 * version or type, and replies. None of them starts with a valid request header.
 */
function garbage(count: number, seed: number): Buffer[] {
  const next = random(seed);
  const bytes = (length: number) =>
    Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)));
  const shapes = [
    () => bytes(Math.floor(next() * 200)),
    () => Buffer.from("534c0101", "hex").subarray(0, Math.floor(next() * 5)), // cut short
    () => Buffer.concat([Buffer.from("4c53010100000001", "hex"), bytes(8)]), // magic swapped
    () => Buffer.concat([Buffer.from("534c020100000001", "hex"), bytes(8)]), // version 2
    () => Buffer.concat([Buffer.from("534c010700000001", "hex"), bytes(8)]), // type 7
    () => encodeRequestFrame({ kind: "reply", id: Math.floor(next() * 2 ** 32) }, bytes(16)),
  ];
  return Array.from({ length: count }, (_, i) => {
    const datagram = (shapes[i % shapes.length] as () => Buffer)();
    const isRequest =
      datagram.length >= 8 && datagram.subarray(0, 4).equals(Buffer.from("534c0101", "hex"));
    return isRequest ? Buffer.from("not a request") : datagram;
  });
}

describe("a flood of garbage datagrams", () => {
  const open = useSockets();

  it("5,000 garbage datagrams while 100 valid requests arrive: every request answered, every garbage datagram counted", async () => {
    const socket = await open("udp://127.0.0.1:0");
    const server = serveRequests(socket, (request) => `ok ${request.data}`, {
      maxAmplification: 2,
    });
    const attacker = await open("udp://127.0.0.1:0");
    const client = await open("udp://127.0.0.1:0");
    const to = formatAddress(socket.local);
    const requester = createRequester(client, { to, backoff: { initialMs: 200 }, retries: 20 });

    const flood = garbage(5_000, 11);
    const answers: Promise<string>[] = [];
    for (let i = 0; i < flood.length; i += 100) {
      // Two valid requests go out with every hundred garbage datagrams.
      for (const n of [i / 50, i / 50 + 1]) {
        answers.push(requester.request(`request ${n}`).then(({ data }) => data.toString()));
      }
      for (const datagram of flood.slice(i, i + 100)) await attacker.send(datagram, to);
      // Counted before the next hundred, so no kernel buffer overflows and the count is exact.
      await vi.waitFor(() => expect(server.stats.invalid).toBe(i + 100), {
        timeout: WAIT_MS,
        interval: 2,
      });
    }
    const replies = await Promise.all(answers);
    expect(replies).toEqual(Array.from({ length: 100 }, (_, n) => `ok request ${n}`));
    expect(server.stats).toMatchObject({ invalid: 5_000, handled: 100, errors: 0, busy: 0 });
    expect(socket.stats.droppedQueueFull).toBe(0);
  });
});

/**
 * A request server with the default maxAmplification (1) answering with `handler`, the errors
 * it reports, and a requester that asks it with short timeouts.
 */
async function amplifyingServer(
  open: ReturnType<typeof useSockets>,
  handler: RequestHandler,
  retries: number,
) {
  const socket = await open("udp://127.0.0.1:0");
  const reported: unknown[] = [];
  const server = serveRequests(socket, handler, { onError: (error) => reported.push(error) });
  const client = await open("udp://127.0.0.1:0");
  const to = formatAddress(socket.local);
  const requester = createRequester(client, { to, backoff: { initialMs: 20 }, retries });
  return { server, reported, requester };
}

describe("a reply refused for amplification", () => {
  const open = useSockets();

  it("'pong!' to 'ping' is refused: the server counts and reports it, the requester's timeout hint names the limit", async () => {
    const { server, reported, requester } = await amplifyingServer(open, () => "pong!", 2);
    await expect(requester.request("ping")).rejects.toMatchObject({
      code: "ERR_TIMEOUT",
      hint: expect.stringMatching(
        /may also refuse, without a word to you, a reply larger than the request \(an amplification limit such as serveRequests' maxAmplification\): pad the request/,
      ),
    });
    // The first try ran the handler and was refused; the retries found nothing cached to send.
    await vi.waitFor(() => expect(server.stats.requests).toBe(3), { timeout: WAIT_MS });
    expect(server.stats).toMatchObject({ handled: 1, duplicates: 2, refused: 1, replies: 0 });
    expect(reported).toEqual([
      expect.objectContaining({
        code: "ERR_DATAGRAM_TOO_LARGE",
        message: expect.stringMatching(
          /^reply of 13 bytes to a 12-byte request from 127\.0\.0\.1:\d+ exceeds maxAmplification 1/,
        ),
      }),
    ]);
  });
});

describe("security defaults, each checked with no options given", () => {
  const open = useSockets();

  it("binds loopback 127.0.0.1 when the endpoint names no host", async () => {
    const socket = await open(":0");
    expect(socket.local).toMatchObject({ transport: "udp", host: "127.0.0.1" });
  });

  it("limits payloads to the protocol maxima, 65,507 bytes (udp4) and 65,527 (udp6), both ways", async () => {
    expect((await open("udp://127.0.0.1:0")).maxPayloadBytes).toBe(65_507);
    expect((await open("udp://[::1]:0")).maxPayloadBytes).toBe(65_527);
  });

  it("never replies with more bytes than the request had", async () => {
    const twice: RequestHandler = (request) => Buffer.concat([request.data, request.data]);
    const { server, reported: refused, requester } = await amplifyingServer(open, twice, 1);
    await expect(requester.request("twice as long, please")).rejects.toMatchObject({
      code: "ERR_TIMEOUT",
    });
    expect(refused[0]).toMatchObject({
      code: "ERR_DATAGRAM_TOO_LARGE",
      message: expect.stringMatching(/exceeds maxAmplification 1 \(at most 29 bytes\)/),
    });
    expect(server.stats).toMatchObject({ refused: 1, replies: 0 });
    // An empty payload doubles to empty: the same size, so it is answered.
    expect((await requester.request("")).data.length).toBe(0);
  });
});
