import { describe, expect, it } from "vitest";
import { TtlMap } from "../src/internal/ttl-map.js";

describe("TtlMap (de-duplication window)", () => {
  it("forgets an entry once its time is up", () => {
    let now = 0;
    const map = new TtlMap<string, number>(100, 10, () => now);
    map.set("a", 1);
    now = 99;
    expect(map.get("a")).toBe(1);
    now = 100;
    expect(map.get("a")).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it("holds at most maxEntries, dropping the oldest first", () => {
    const map = new TtlMap<number, number>(1_000, 3, () => 0);
    for (let i = 1; i <= 5; i++) map.set(i, i);
    expect(map.size).toBe(3);
    expect([1, 2, 3, 4, 5].map((key) => map.get(key))).toEqual([undefined, undefined, 3, 4, 5]);
  });

  it("counts evictions of live entries, never of expired ones", () => {
    let now = 0;
    const map = new TtlMap<number, number>(10, 2, () => now);
    for (let i = 1; i <= 4; i++) map.set(i, i);
    expect(map.evicted).toBe(2);
    now = 10;
    // 3 and 4 have expired: adding two more clears them instead of evicting.
    map.set(5, 5);
    map.set(6, 6);
    expect(map.evicted).toBe(2);
    map.set(7, 7);
    expect(map.evicted).toBe(3);
  });

  it("clears expired entries from the front when adding, and a re-set entry starts over", () => {
    let now = 0;
    const map = new TtlMap<string, number>(10, 100, () => now);
    map.set("a", 1);
    map.set("b", 2);
    now = 5;
    map.set("a", 3);
    now = 12;
    map.set("c", 4);
    // "b" expired at 10 and was cleared; "a" was set again at 5, so lives until 15.
    expect(map.size).toBe(2);
    expect(map.get("a")).toBe(3);
    expect(map.get("b")).toBeUndefined();
  });
});
