/**
 * A burst from one member throttles that member, not the readers: the server stops reading a
 * sender while its lines do not fit in every queue, and drops only a member whose full queue
 * takes nothing for the stall timeout. First the built programs as the README runs them, then
 * the room in process with raw node:net clients.
 */

import { once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { type ChatServer, type ChatServerOptions, startChatServer } from "../src/server.js";
import {
  CLIENT_CLI,
  LineClient,
  type Program,
  run,
  startServerProgram,
  stop,
  within,
} from "./_helpers.js";

const programs: Program[] = [];
const servers: ChatServer[] = [];
const clients: LineClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await Promise.all(programs.splice(0).map((program) => stop(program)));
});

async function start(options: ChatServerOptions): Promise<{ chat: ChatServer; port: number }> {
  const chat = await startChatServer({ port: 0, ...options });
  servers.push(chat);
  if (chat.endpoint.transport === "unix") throw new Error("expected a TCP endpoint");
  return { chat, port: chat.endpoint.port };
}

async function join(port: number, nick: string): Promise<LineClient> {
  const client = await LineClient.join(port, nick);
  clients.push(client);
  return client;
}

/**
 * Consumes the lines `<talker> N …` a client receives, checking that N runs 0, 1, 2…; resolves
 * with the mistakes found (none, we hope) once line `count - 1` has come.
 */
function talkerLines(client: LineClient, count: number): Promise<string[]> {
  const errors: string[] = [];
  let next = 0;
  return new Promise((resolve) => {
    client.intercept = (line) => {
      if (!line.startsWith("<talker> ")) return false;
      const n = Number(line.slice(9, line.indexOf(" ", 9)));
      if (n !== next) errors.push(`got line ${n}, expected ${next}`);
      next = n + 1;
      if (next === count) resolve(errors);
      return true;
    };
  });
}

/** Resolves once `condition()` is true, looking every 10 ms, for up to 30 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 3_000 && !condition(); i++) await delay(10);
  if (!condition()) throw new Error("timed out after 30 s waiting for a condition");
}

/** Sends `count` lines `N xxx…` of `bytes` bytes each, waiting whenever the socket is full. */
async function talk(talker: LineClient, count: number, bytes: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    const head = `${n} `;
    const ok = talker.socket.write(`${head}${"x".repeat(bytes - head.length - 1)}\n`);
    if (!ok) await within(once(talker.socket, "drain"), 60_000, "the talker's socket to drain");
  }
}

describe("a burst from one member (built programs)", () => {
  it("`seq 1 20000 | chat-client --nick bot`: a watching chat-client gets every line, in order, and nobody is dropped", {
    timeout: 120_000,
  }, async () => {
    const LINES = 20_000;
    const server = await startServerProgram();
    programs.push(server);
    const port = String(server.port);

    const watcher = run(CLIENT_CLI, ["--port", port, "--nick", "watcher"]);
    programs.push(watcher); // its stdin stays open: it stays in the room
    await watcher.stdout.waitFor("* guest1 is now watcher", 10_000);

    const bot = run(CLIENT_CLI, ["--port", port, "--nick", "bot"]);
    programs.push(bot);
    bot.child.stdin.end(Array.from({ length: LINES }, (_, i) => `${i + 1}\n`).join(""));

    await watcher.stdout.waitFor(`<bot> ${LINES}`, 60_000);
    await watcher.stdout.waitFor("* bot left", 10_000);
    await server.stdout.waitFor("bot left (quit)", 10_000);
    expect(await within(bot.exited, 10_000, "the bot to exit")).toBe(0);

    const received = watcher.stdout.lines.filter((line) => line.startsWith("<bot> "));
    expect(received).toEqual(Array.from({ length: LINES }, (_, i) => `<bot> ${i + 1}`));
    expect(server.stdout.lines.filter((line) => / left \(/.test(line))).toEqual([
      "bot left (quit)",
    ]);
  });

  it("a chat-client whose input ends while a silent member holds it back still gets every line through, then /quit", {
    timeout: 120_000,
  }, async () => {
    const LINES = 60_000; // 6 MB: more than the kernel holds for sleepy, so the hold comes at the end
    const server = await startServerProgram();
    programs.push(server);
    const port = String(server.port);
    const sleepy = await join(server.port, "sleepy");
    sleepy.socket.pause();

    const watcher = run(CLIENT_CLI, ["--port", port, "--nick", "watcher"]);
    programs.push(watcher);
    await watcher.stdout.waitFor("* guest2 is now watcher", 10_000);
    let received = 0; // flood's lines, each checked to be the one due next
    const outOfOrder: string[] = [];
    watcher.stdout.intercept = (line) => {
      if (!line.startsWith("<flood> ")) return false;
      if (!line.startsWith(`<flood> ${received} `)) outOfOrder.push(line.slice(0, 20));
      received += 1;
      return true;
    };

    const flood = run(CLIENT_CLI, ["--port", port, "--nick", "flood"]);
    programs.push(flood);
    const padding = "y".repeat(90);
    flood.child.stdin.end(Array.from({ length: LINES }, (_, i) => `${i} ${padding}\n`).join(""));

    expect(await within(flood.exited, 60_000, "flood to exit")).toBe(0);
    await watcher.stdout.waitFor("* flood left", 30_000);
    await server.stdout.waitFor("flood left (quit)", 10_000);
    expect(server.stdout.lines).toContain("sleepy left (slow)");
    expect(received).toBe(LINES);
    expect(outOfOrder).toEqual([]);
  });

  it("--stall-timeout 0.5: a member that never reads is dropped after 500 ms without progress and told why; the talker goes on", {
    timeout: 120_000,
  }, async () => {
    const server = await startServerProgram(["--stall-timeout", "0.5"]);
    programs.push(server);
    const sleepy = await join(server.port, "sleepy");
    sleepy.socket.pause(); // never reads: the kernel's buffers for it fill, then its queue
    const talker = await join(server.port, "talker");

    // About 4 MB fit in the kernel for a reader that never reads: 20,000 × 1,000 B is plenty.
    const MAX_LINES = 20_000;
    const padding = "x".repeat(990);
    let sent = 0;
    while (!server.stdout.lines.includes("sleepy left (slow)")) {
      if (sent === MAX_LINES) throw new Error(`sleepy was not dropped after ${sent} lines`);
      if (!talker.socket.write(`${sent} ${padding}\n`)) {
        await within(once(talker.socket, "drain"), 30_000, "the talker's socket to drain");
      }
      sent += 1;
    }
    // The server waits CLOSE_TIMEOUT_MS (2 s) for a dropped member to take its last line.
    sleepy.socket.resume();
    await sleepy.waitFor(
      "! error: you read nothing for 500 ms while your queue was full; disconnecting",
      30_000,
    );
    await talker.waitFor("* sleepy left (too slow)");
    talker.send("/who");
    await talker.waitFor("* users: talker");
  });
});

describe("a burst from one member (in process)", () => {
  // A paused loopback reader makes the kernel hold about 4 MB for it on this kind of box
  // (tcp_wmem max 4 MiB): the talker sends 10 MB, so the never-reader's queue surely fills.
  const LINES = 20_000;
  const LINE_BYTES = 500;

  it("a member that never reads is dropped and told why; the active reader gets every line and the talker stays", {
    timeout: 120_000,
  }, async () => {
    const queueLimitBytes = 64 * 1024;
    let sleepy: LineClient | undefined;
    const { chat, port } = await start({
      stallTimeoutMs: 1_000,
      queueLimitBytes,
      onEvent: (event) => {
        // Read again the moment the server drops it, to see the last line it was sent.
        if (event.type === "leave" && event.nick === "sleepy") sleepy?.socket.resume();
      },
    });
    const reader = await join(port, "reader");
    sleepy = await join(port, "sleepy");
    sleepy.socket.pause(); // never reads: its receive buffer fills, then the server's send buffer
    const talker = await join(port, "talker");

    const received = talkerLines(reader, LINES);
    await talk(talker, LINES, LINE_BYTES);
    expect(await within(received, 60_000, `the reader to get ${LINES} lines`)).toEqual([]);

    await reader.waitFor("* sleepy left (too slow)");
    await talker.waitFor("* sleepy left (too slow)");
    await sleepy.waitFor(
      "! error: you read nothing for 1 s while your queue was full; disconnecting",
      30_000,
    );
    await sleepy.waitForClose(30_000);

    // The talker was held back (the server stopped reading it), and stayed.
    expect(chat.stats.throttled).toBeGreaterThan(0);
    expect(chat.stats.dropped).toBe(1);
    expect(chat.users()).toEqual(["reader", "talker"]);
    talker.send("/who");
    await talker.waitFor("* users: reader, talker");
    // The lines waiting for any one client never went past the limit.
    expect(chat.stats.peakQueuedBytes).toBeLessThanOrEqual(queueLimitBytes);
  });

  it("a member that reads slowly but steadily is not dropped, and gets every line", {
    timeout: 300_000,
  }, async () => {
    // It reads every 20 ms or so; 30 s without progress would be a stall (generous: on a busy
    // machine a timer of 20 ms may fire seconds late, and a late reader is still a reader).
    const { chat, port } = await start({ stallTimeoutMs: 30_000 });
    const reader = await join(port, "reader");
    const slow = await join(port, "slow");
    const talker = await join(port, "talker");

    // slow reads one chunk (what one read() returns, at most 64 KiB), then nothing for 20 ms.
    slow.socket.pause();
    const pulse = setInterval(() => {
      slow.socket.once("data", () => slow.socket.pause());
      slow.socket.resume();
    }, 20);
    try {
      const toReader = talkerLines(reader, LINES);
      const toSlow = talkerLines(slow, LINES);
      await talk(talker, LINES, LINE_BYTES);
      expect(await within(toReader, 120_000, `the reader to get ${LINES} lines`)).toEqual([]);
      expect(await within(toSlow, 120_000, `slow to get ${LINES} lines`)).toEqual([]);
    } finally {
      clearInterval(pulse);
    }
    // slow held the talker back, so it was slower than the talker, and it was never dropped.
    expect(chat.stats.throttled).toBeGreaterThan(0);
    expect(chat.stats.dropped).toBe(0);
    expect(chat.users()).toEqual(["reader", "slow", "talker"]);
  });

  it("notices past twice a full queue's limit drop its member at once: joins and leaves cannot grow a queue without bound", {
    timeout: 120_000,
  }, async () => {
    const queueLimitBytes = 2_048;
    let sleepy: LineClient | undefined;
    const { chat, port } = await start({
      maxLineBytes: 1_024,
      queueLimitBytes,
      stallTimeoutMs: 600_000, // never a stall here: only the overflow can drop sleepy
      onEvent: (event) => {
        if (event.type === "leave" && event.nick === "sleepy") sleepy?.socket.resume();
      },
    });
    sleepy = await join(port, "sleepy");
    sleepy.socket.pause();
    const talker = await join(port, "talker");

    // Fill the kernel's buffers for sleepy, then its queue: the talker is held back.
    const padding = "x".repeat(990);
    const heldBack = until(() => chat.stats.throttled > 0);
    for (let n = 0; chat.stats.throttled === 0; n++) {
      if (n === 20_000) throw new Error("the talker was never held back");
      if (!talker.socket.write(`${n} ${padding}\n`)) {
        await Promise.race([once(talker.socket, "drain"), heldBack]);
      }
    }
    // Clients come and go: each join and leave is a notice for sleepy, which reads nothing.
    for (let n = 0; chat.users().includes("sleepy"); n++) {
      if (n === 500) throw new Error("sleepy was not dropped after 500 joins and leaves");
      const guest = await LineClient.connect(port);
      await guest.waitFor(/^\* welcome/);
      guest.socket.destroy();
      await within(guest.closed, 10_000, "a guest to close");
    }
    await sleepy.waitFor(
      "! error: your queue overflowed (over twice its limit); disconnecting",
      30_000,
    );
    await talker.waitFor("* sleepy left (too slow)");
    expect(chat.stats.dropped).toBe(1);
    expect(chat.stats.peakQueuedBytes).toBeLessThanOrEqual(2 * queueLimitBytes);
    expect(chat.stats.peakQueuedBytes).toBeGreaterThan(queueLimitBytes);
  });
});
