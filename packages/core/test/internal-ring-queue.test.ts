/**
 * The ring buffer behind the toolkit's queues (a tcp connection's, AsyncQueue): first in, first
 * out across growth, wrap-around and clear(), starting from no slots at all.
 */

import { describe, expect, it } from "vitest";
import { RingQueue } from "../src/internal/index.js";

describe("RingQueue", () => {
  it("is empty until the first push, and shift() then gives undefined", () => {
    const queue = new RingQueue<number>();
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });

  it("keeps first-in first-out order while it wraps around and grows", () => {
    const queue = new RingQueue<number>();
    const out: number[] = [];
    let next = 0;
    // Pushes three for every two shifts, so the head moves while the queue grows to 100.
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 3; i++) queue.push(next++);
      for (let i = 0; i < 2; i++) out.push(queue.shift() as number);
    }
    expect(queue.length).toBe(100);
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
    expect(out).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it("clear() empties it, and it works again after", () => {
    const queue = new RingQueue<string>();
    for (const item of ["a", "b", "c", "d", "e"]) queue.push(item);
    queue.clear();
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    queue.push("f");
    queue.push("g");
    expect([queue.shift(), queue.shift(), queue.shift()]).toEqual(["f", "g", undefined]);
  });
});
