import { describe, expect, it } from "vitest";
import { Pending } from "../src/pending.js";

describe("Pending", () => {
  it("settles once every promise added has settled, rejections included, even ones added meanwhile", async () => {
    const pending = new Pending();
    let release!: () => void;
    let fail!: (err: Error) => void;
    pending.add(new Promise<void>((resolve) => (release = resolve)));
    pending.add(new Promise<void>((_, reject) => (fail = reject)));
    let done = false;
    const settled = pending.settled().then(() => (done = true));
    await Promise.resolve();
    expect(pending.size).toBe(2);
    fail(new Error("one client failed"));
    let late!: () => void;
    pending.add(new Promise<void>((resolve) => (late = resolve)));
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    late();
    await settled;
    expect(done).toBe(true);
    expect(pending.size).toBe(0);
  });

  it("is settled at once when nothing was added", async () => {
    await expect(new Pending().settled()).resolves.toBeUndefined();
  });
});
