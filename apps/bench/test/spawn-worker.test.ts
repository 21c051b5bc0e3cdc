import { describe, expect, it } from "vitest";
import { parseCpuList } from "../src/spawn-worker.js";

describe("parseCpuList", () => {
  it("reads taskset's affinity lists", () => {
    expect(parseCpuList("0,1")).toEqual([0, 1]);
    expect(parseCpuList(" 0-2,5\n")).toEqual([0, 1, 2, 5]);
    expect(parseCpuList("3")).toEqual([3]);
  });

  it("skips what is not a CPU number", () => {
    expect(parseCpuList("")).toEqual([]);
    expect(parseCpuList("x,2")).toEqual([2]);
  });
});
