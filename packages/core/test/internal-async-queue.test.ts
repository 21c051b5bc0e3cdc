/**
 * `@socket-lab/core/internal`'s AsyncQueue, behind udp's receive queue and reliable-udp's inbox
 * and accept queue: waiting readers, a bound, end and failure, readers that give up; and
 * `deferred()`.
 */

import { describe, expect, it } from "vitest";
import { AsyncQueue, DONE, deferred } from "../src/internal/index.js";

describe("AsyncQueue", () => {
  it("hands items to waiting readers first, in order, and queues the rest", async () => {
    let reads = 0;
    const queue = new AsyncQueue<number>({ onRead: () => reads++ });
    const first = queue.next();
    const second = queue.next();
    expect(queue.push(1)).toBe(true);
    expect(queue.push(2)).toBe(true);
    expect(queue.push(3)).toBe(true);
    expect(queue.length).toBe(1);
    expect(await first).toEqual({ done: false, value: 1 });
    expect(await second).toEqual({ done: false, value: 2 });
    expect(await queue.next()).toEqual({ done: false, value: 3 });
    expect(reads).toBe(3);
  });

  it("refuses items past its limit, and after it ended", () => {
    const queue = new AsyncQueue<string>({ limit: 2 });
    expect([queue.push("a"), queue.push("b"), queue.push("c")]).toEqual([true, true, false]);
    queue.end();
    expect(queue.ended).toBe(true);
    expect(queue.push("d")).toBe(false);
    expect(queue.length).toBe(2);
  });

  it("end(): readers get what is queued, then the end", async () => {
    const queue = new AsyncQueue<string>();
    queue.push("a");
    queue.end();
    expect(await queue.next()).toEqual({ done: false, value: "a" });
    expect(await queue.next()).toBe(DONE);
    const waiting = new AsyncQueue<string>();
    const reads = [waiting.next(), waiting.next()];
    waiting.end();
    expect(await Promise.all(reads)).toEqual([DONE, DONE]);
  });

  it("fail(): what is queued, then the error once, then the end", async () => {
    const queue = new AsyncQueue<string>();
    queue.push("a");
    queue.fail(new Error("reset"));
    queue.fail(new Error("ignored"));
    expect(await queue.next()).toEqual({ done: false, value: "a" });
    await expect(queue.next()).rejects.toThrow("reset");
    expect(await queue.next()).toBe(DONE);
    const waiting = new AsyncQueue<string>();
    const reads = [waiting.next(), waiting.next()];
    waiting.fail(new Error("reset"));
    const [first, second] = await Promise.allSettled(reads);
    expect(first).toMatchObject({ status: "rejected", reason: { message: "reset" } });
    expect(second).toEqual({ status: "fulfilled", value: DONE });
  });

  it("clear() drops what is queued and ends", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.clear();
    expect(queue.length).toBe(0);
    expect(await queue.next()).toBe(DONE);
  });

  it("an iterator's return() ends that iterator only and gives up its place in line", async () => {
    const queue = new AsyncQueue<number>();
    const quitter = queue.iterate();
    const stayer = queue.iterate();
    const given = quitter.next();
    const kept = stayer.next();
    await quitter.return?.();
    expect(await given).toBe(DONE);
    queue.push(1);
    expect(await kept).toEqual({ done: false, value: 1 });
    expect(await quitter.next()).toBe(DONE);
    queue.push(2);
    expect(await stayer.next()).toEqual({ done: false, value: 2 });
  });

  it("stays O(1): 200,000 items through one queue, and 100,000 readers that gave up", async () => {
    const queue = new AsyncQueue<number>();
    const count = 200_000;
    for (let i = 0; i < count; i++) queue.push(i);
    let sum = 0;
    for (let i = 0; i < count; i++) {
      const result = await queue.next();
      if (!result.done) sum += result.value;
    }
    expect(sum).toBe((count * (count - 1)) / 2);
    for (let i = 0; i < count / 2; i++) {
      const reader = queue.iterate();
      void reader.next();
      await reader.return?.();
    }
    const last = queue.next();
    queue.push(7);
    expect(await last).toEqual({ done: false, value: 7 });
  });
});

describe("deferred()", () => {
  it("resolves and rejects from outside", async () => {
    const yes = deferred<number>();
    yes.resolve(1);
    expect(await yes.promise).toBe(1);
    const no = deferred<number>();
    no.reject(new Error("no"));
    await expect(no.promise).rejects.toThrow("no");
  });
});
