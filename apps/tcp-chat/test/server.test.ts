import { once } from "node:events";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type ChatServer, type ChatServerOptions, startChatServer } from "../src/server.js";
import { LineClient, WAIT_MS, within } from "./_helpers.js";

const servers: ChatServer[] = [];
const clients: LineClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: ChatServerOptions = {}): Promise<{ chat: ChatServer; port: number }> {
  const chat = await startChatServer({ port: 0, ...options });
  servers.push(chat);
  if (chat.endpoint.transport === "unix") throw new Error("expected a TCP endpoint");
  return { chat, port: chat.endpoint.port };
}

async function connect(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  clients.push(client);
  return client;
}

async function join(port: number, nick: string): Promise<LineClient> {
  const client = await LineClient.join(port, nick);
  clients.push(client);
  return client;
}

describe("the room", () => {
  it("relays each line to every other client with the sender's nickname, and says who comes and goes", async () => {
    const { port } = await start();
    const alice = await connect(port);
    await alice.waitFor(
      "* welcome, you are guest1 (1 user online; commands: /nick NAME, /who, /quit)",
    );
    alice.send("/nick alice");
    await alice.waitFor("* guest1 is now alice");

    const bob = await connect(port);
    await bob.waitFor(/^\* welcome, you are guest2 \(2 users online;/);
    await alice.waitFor("* guest2 joined");
    bob.send("/nick bob");
    await alice.waitFor("* guest2 is now bob");
    await bob.waitFor("* guest2 is now bob");

    bob.send("hello, alice");
    bob.send("/who");
    await alice.waitFor("<bob> hello, alice");
    await bob.waitFor("* users: alice, bob");
    // The /who answer comes after the message would have: a sender never hears itself.
    expect(bob.lines.filter((line) => line.startsWith("<"))).toEqual([]);

    alice.send("/quit");
    await alice.waitFor("* bye");
    await alice.waitForClose();
    await bob.waitFor("* alice left");
  });

  it("passes messages on with control characters escaped and ignores empty lines", async () => {
    const { port } = await start();
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    alice.send("");
    alice.send("\u001b[2Jboo\u0007\ttab");
    await bob.waitFor("<alice> \\x1b[2Jboo\\x07\\ttab");
    expect(bob.lines.filter((line) => line.startsWith("<"))).toEqual([
      "<alice> \\x1b[2Jboo\\x07\\ttab",
    ]);
  });

  it("measures a line as passed on, escapes included, against maxLineBytes", async () => {
    const { port, chat } = await start({ maxLineBytes: 100, queueLimitBytes: 100 + 64 });
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    // 100 bytes sent, 400 passed on: over the limit. Measured as sent, bob's queue of 164 bytes
    // could not hold the line, and he would be dropped as too slow.
    alice.send("\u001b".repeat(100));
    await alice.waitFor("! error: line of 400 bytes is over the limit of 100; not sent");
    alice.send("ok");
    await bob.waitFor("<alice> ok");
    expect(chat.stats.dropped).toBe(0);
  });

  it("keeps nicknames unique ignoring case and explains the rules", async () => {
    const { port, chat } = await start();
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");

    bob.send("/nick Alice");
    await bob.waitFor("! error: nickname 'Alice' is taken; you are still bob");
    bob.send("/nick 9lives");
    await bob.waitFor(
      "! error: nickname must be 1–16 letters, digits, '_' or '-', starting with a letter",
    );
    bob.send("/nick seventeen-chars-x");
    bob.send("/nick");
    await bob.waitFor("! error: usage: /nick NAME");
    bob.send("/dance");
    await bob.waitFor("! error: unknown command '/dance'; commands: /nick NAME, /who, /quit");
    bob.send("/who");
    await bob.waitFor("* users: alice, bob");
    expect(bob.lines.filter((line) => line.startsWith("! error: nickname must"))).toHaveLength(2);
    expect(chat.users()).toEqual(["alice", "bob"]);

    bob.send("/nick Carol_2");
    await alice.waitFor("* bob is now Carol_2");
    expect(chat.users()).toEqual(["Carol_2", "alice"]);
  });

  it("answers an over-long line with an error, and the client stays and can still chat", async () => {
    const { port, chat } = await start({ maxLineBytes: 100, queueLimitBytes: 1000 });
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");

    alice.send("x".repeat(101));
    await alice.waitFor("! error: line of 101 bytes is over the limit of 100; not sent");
    alice.send("y".repeat(100)); // exactly the limit is fine
    alice.send("still here");
    await bob.waitFor("<alice> still here");
    expect(bob.lines.filter((line) => line.startsWith("<"))).toEqual([
      `<alice> ${"y".repeat(100)}`,
      "<alice> still here",
    ]);
    expect(chat.stats.linesTooLong).toBe(1);
    expect(chat.users()).toEqual(["alice", "bob"]);
  });

  it("disconnects a client whose line runs past the transport's limit, so memory stays bounded", async () => {
    const { port } = await start({ maxLineBytes: 100, queueLimitBytes: 1000 });
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    alice.socket.write("z".repeat(64 * 1024 + 1)); // no newline: the line never ends
    await alice.waitForClose();
    await bob.waitFor("* alice left (error)");
  });

  it("tells the others when a client vanishes with a reset", async () => {
    const { port, chat } = await start();
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    alice.socket.resetAndDestroy();
    await bob.waitFor("* alice left (connection reset)");
    expect(chat.users()).toEqual(["bob"]);
  });

  it("refuses one client over max clients with a line, then closes; a free place can be taken", async () => {
    const { port, chat } = await start({ maxClients: 2 });
    const alice = await join(port, "alice");
    await join(port, "bob");
    const carol = await connect(port);
    await carol.waitFor("! error: server is full (2 users); try again later");
    await carol.waitForClose();
    expect(carol.lines).toEqual(["! error: server is full (2 users); try again later"]);
    expect(chat.stats.refused).toBe(1);

    alice.send("/quit");
    await alice.waitForClose();
    const dave = await join(port, "dave");
    dave.send("/who");
    await dave.waitFor("* users: bob, dave");
  });

  it("disconnects a client that sends nothing for the idle timeout, telling it and the room", async () => {
    const { port } = await start({ idleTimeoutMs: 300 });
    // alice's last line comes before bob's, so her time runs out first.
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    await alice.waitFor("! error: idle for 300 ms; disconnecting");
    await alice.waitForClose();
    await bob.waitFor("* alice left (idle)");
  });

  it("tells everyone when it shuts down and closes every connection", async () => {
    const { port, chat } = await start();
    const alice = await join(port, "alice");
    const bob = await join(port, "bob");
    await within(chat.close(), WAIT_MS, "the server to close");
    for (const client of [alice, bob]) {
      await client.waitFor("* server shutting down");
      await client.waitForClose();
    }
    expect(alice.lines).not.toContain("* bob left");
  });

  it("rejects bad options, naming them", async () => {
    await expect(startChatServer({ maxClients: 0 })).rejects.toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "maxClients" is out of range. It must be an integer >= 1 && <= 100000. Received 0',
      }),
    );
    await expect(startChatServer({ port: "7002" as unknown as number })).rejects.toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_TYPE",
        message: `The "port" option must be of type number. Received type string ('7002')`,
      }),
    );
    await expect(startChatServer({ maxLineBytes: 1000, queueLimitBytes: 1000 })).rejects.toThrow(
      expect.objectContaining({
        code: "ERR_OUT_OF_RANGE",
        message:
          'The value of "queueLimitBytes" is out of range. It must be an integer >= maxLineBytes + 64 (1064). Received 1000',
      }),
    );
    await expect(startChatServer({ host: "0.0.0.0.0" })).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_INVALID_ARG_VALUE",
    });
  });
});

describe("under load", () => {
  it("delivers 100 clients × 100 lines: each client gets the other 9,900, in order per sender, once", async () => {
    const CLIENTS = 100;
    const LINES = 100;
    const expected = (CLIENTS - 1) * LINES;
    // The test's clients share one process with the server, so give them room to fall behind.
    const { chat, port } = await start({ maxClients: CLIENTS, queueLimitBytes: 1024 * 1024 });
    const room = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => join(port, `c${i}`)));

    const errors: string[] = [];
    const done = room.map((client, self) => {
      const next = new Array<number>(CLIENTS).fill(0); // per sender: the line number due next
      let received = 0;
      return new Promise<number[]>((resolve) => {
        client.intercept = (line) => {
          const match = /^<c(\d+)> m(\d+)$/.exec(line);
          if (match === null) return false;
          const sender = Number(match[1]);
          const n = Number(match[2]);
          if (sender === self || n !== next[sender]) {
            errors.push(`c${self} got '${line}', expected m${next[sender]}`);
          } else {
            next[sender] = n + 1;
          }
          received += 1;
          if (received === expected) resolve(next);
          return true;
        };
      });
    });

    const burst = Array.from({ length: LINES }, (_, n) => `m${n}\n`).join("");
    for (const client of room) client.socket.write(burst);
    const counts = await within(Promise.all(done), WAIT_MS, "every client to receive 9,900 lines");

    // One more round trip each: anything duplicated would arrive before these answers.
    for (const client of room) client.send("/who");
    await Promise.all(room.map((client) => client.waitFor(/^\* users: /, WAIT_MS)));

    expect(errors).toEqual([]);
    counts.forEach((next, self) => {
      expect(next).toEqual(next.map((_, sender) => (sender === self ? 0 : LINES)));
    });
    expect(chat.stats.dropped).toBe(0);
    expect(chat.stats.clients).toBe(CLIENTS);
  });

  it("drops a client that never reads while others chat hard; the rest see every line and the drop", async () => {
    const queueLimitBytes = 64 * 1024;
    // a and b are held back while slow's queue is full: for 1 s, then slow is dropped.
    const { chat, port } = await start({
      maxLineBytes: 4096,
      queueLimitBytes,
      stallTimeoutMs: 1_000,
    });
    const watcher = await join(port, "watcher");
    const a = await join(port, "a");
    const b = await join(port, "b");
    const slow = await join(port, "slow");
    slow.socket.pause(); // never read again: its receive buffer fills, then the server's send buffer

    const MAX_LINES = 5_000; // 10 MB per sender at most: far more than loopback buffers hold
    const padding = "x".repeat(2_000);
    let sent = 0;
    while (chat.users().includes("slow")) {
      if (sent === MAX_LINES) throw new Error(`slow was not dropped after ${sent} lines each`);
      const okA = a.socket.write(`a${sent} ${padding}\n`);
      const okB = b.socket.write(`b${sent} ${padding}\n`);
      sent += 1;
      if (!okA) await within(once(a.socket, "drain"), WAIT_MS, "a's socket to drain");
      if (!okB) await within(once(b.socket, "drain"), WAIT_MS, "b's socket to drain");
      await yieldToEventLoop();
    }

    await watcher.waitFor("* slow left (too slow)");
    await a.waitFor("* slow left (too slow)");
    const last = sent - 1;
    await watcher.waitFor(`<a> a${last} ${padding}`, WAIT_MS);
    await watcher.waitFor(`<b> b${last} ${padding}`, WAIT_MS);
    await a.waitFor(`<b> b${last} ${padding}`, WAIT_MS);
    await b.waitFor(`<a> a${last} ${padding}`, WAIT_MS);

    const numbers = (client: LineClient, sender: string) =>
      client.lines
        .filter((line) => line.startsWith(`<${sender}> `))
        .map((line) => line.slice(sender.length + 3, line.indexOf(" ", sender.length + 3)));
    const all = (prefix: string) => Array.from({ length: sent }, (_, n) => `${prefix}${n}`);
    expect(numbers(watcher, "a")).toEqual(all("a"));
    expect(numbers(watcher, "b")).toEqual(all("b"));
    expect(numbers(a, "b")).toEqual(all("b"));
    expect(numbers(b, "a")).toEqual(all("a"));

    expect(chat.stats.dropped).toBe(1);
    expect(chat.users()).toEqual(["a", "b", "watcher"]);
    // The bytes waiting for any one client filled its queue but never went past the limit.
    expect(chat.stats.peakQueuedBytes).toBeLessThanOrEqual(queueLimitBytes);
    expect(chat.stats.peakQueuedBytes).toBeGreaterThan(queueLimitBytes - 4_200);
    expect(chat.stats.throttled).toBeGreaterThan(0);
  });
});
