// docs/tutorial.md, "The queue: listen's backlog": while the server calls accept() no more
// (stopped, as Ctrl-Z does), the kernel still completes handshakes and queues them, at most
// backlog + 1 on Linux; the other connects wait in SYN-SENT and retry.

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, expect, test, vi } from "vitest";
import { startServer, stopAll } from "./_spawn.js";
import { documented, same, sh, ssLines } from "./_tutorial.js";

const BURST = fileURLToPath(new URL("../scripts/connect-burst.mjs", import.meta.url));
const COUNT = 20;
/** Longest a wait on the kernel may take: SYN retries come after 1, 2, 4, 8, 16 s. */
const KERNEL_WAIT_MS = 60_000;
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  stopAll();
});

/** The burst script on `port`; what it has printed so far. */
function burst(port: string) {
  const child = spawn(process.execPath, [BURST, "--port", port, "--count", String(COUNT)]);
  children.add(child);
  child.on("close", () => children.delete(child));
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  return { child, out: () => out };
}

/** Recv-Q (connections queued for accept) and Send-Q (the backlog) of the listening socket. */
function queue(port: string): { queued: number; backlog: number } {
  const [line] = ssLines("-ltn", `'sport = :${port}'`);
  const [, queued, backlog] = (line ?? "").trim().split(/\s+/);
  return { queued: Number(queued), backlog: Number(backlog) };
}

/** Client sockets to `port` in SYN-SENT, with how many times each has sent its SYN again. */
function synSent(port: string): number[] {
  return ssLines("-tno", `state syn-sent 'dport = :${port}'`).map((line) =>
    Number(/timer:\(on,[^,]+,(\d+)\)/.exec(line)?.[1] ?? 0),
  );
}

test.each([5, 128])(
  "with backlog %i the kernel queues min(backlog + 1, 20) of a burst of 20 connects",
  async (backlog) => {
    const { server, port } = await startServer(["--backlog", String(backlog)]);
    const expected = Math.min(backlog + 1, COUNT);
    server.child.kill("SIGTSTP"); // Ctrl-Z: the process stops; the kernel goes on
    await vi.waitFor(() => expect(sh(`ps -o stat= -p ${server.child.pid}`)).toMatch(/^T/), {
      timeout: KERNEL_WAIT_MS,
    });
    const connects = burst(port);
    // Wait until every connect has either completed or sent its SYN again after a drop.
    await vi.waitFor(
      () => {
        expect(connects.out()).toContain(`connected ${expected} of ${COUNT}`);
        const waiting = synSent(port);
        expect(waiting).toHaveLength(COUNT - expected);
        for (const retries of waiting) expect(retries).toBeGreaterThanOrEqual(1);
      },
      { timeout: KERNEL_WAIT_MS, interval: 50 },
    );
    expect(queue(port)).toEqual({ queued: expected, backlog });
    expect(connects.out()).not.toContain(`connected ${expected + 1} of`);

    const shown = `$ node apps/tcp-echo/dist/server-cli.js --backlog ${backlog}`;
    const session = [
      shown,
      server.stdout().trimEnd(),
      "# Ctrl-Z in terminal 1: the server process stops, and calls accept() no more",
      "$ node apps/tcp-echo/scripts/connect-burst.mjs",
      connects.out().trimEnd(),
      "$ ss -ltn 'sport = :7000'",
      sh(`ss -ltn 'sport = :${port}'`).trimEnd(),
      "$ ss -tnH state syn-sent 'dport = :7000' | wc -l",
      sh(`ss -tnH state syn-sent 'dport = :${port}' | wc -l`).trim(),
    ].join("\n");
    expect(same(session)).toBe(same(documented(shown)));

    // fg: the server runs again; every client gets in, the dropped ones when they retry.
    server.child.kill("SIGCONT");
    await vi.waitFor(
      () => expect(connects.out()).toContain(`all ${COUNT} connected; Ctrl-C closes them`),
      { timeout: KERNEL_WAIT_MS, interval: 50 },
    );
    connects.child.kill("SIGINT");
    server.child.kill("SIGINT");
    await vi.waitFor(
      () => expect(children.size + (server.child.exitCode === null ? 1 : 0)).toBe(0),
      {
        timeout: KERNEL_WAIT_MS,
      },
    );
  },
);
