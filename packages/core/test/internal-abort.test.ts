/**
 * `@socket-lab/core/internal`'s abort helpers: one convention for every package.
 */

import { describe, expect, it } from "vitest";
import {
  abortError,
  abortReason,
  checkSignal,
  onAbort,
  raceAbort,
  throwIfAborted,
} from "../src/internal/index.js";

describe("abortReason()", () => {
  it("is the signal's reason: abort()'s DOMException, a timeout's, or the value given", () => {
    const plain = AbortSignal.abort();
    expect(abortReason(plain)).toBe(plain.reason);
    expect(abortReason(plain)).toMatchObject({ name: "AbortError" });
    const given = new Error("mine");
    expect(abortReason(AbortSignal.abort(given))).toBe(given);
  });

  it("is Node's AbortError (code ABORT_ERR) for a signal aborted with null", () => {
    const error = abortReason(AbortSignal.abort(null));
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: "AbortError", code: "ABORT_ERR" });
    expect(abortError("why")).toMatchObject({ cause: "why", code: "ABORT_ERR" });
  });
});

describe("raceAbort()", () => {
  it("rejects with the reason when the signal fires first, and handles a later rejection", async () => {
    const controller = new AbortController();
    let fail: (error: Error) => void = () => {};
    const work = new Promise<number>((_, reject) => {
      fail = reject;
    });
    const raced = raceAbort(work, controller.signal);
    controller.abort("stop");
    await expect(raced).rejects.toBe("stop");
    fail(new Error("later")); // must not be an unhandled rejection
    await expect(raceAbort(Promise.resolve(1), controller.signal)).rejects.toBe("stop");
    await expect(raceAbort(Promise.resolve(2), undefined)).resolves.toBe(2);
    await expect(raceAbort(Promise.resolve(3), new AbortController().signal)).resolves.toBe(3);
  });
});

describe("onAbort(), throwIfAborted(), checkSignal()", () => {
  it("call at once for a fired signal, once later otherwise, and not after removal", () => {
    const calls: string[] = [];
    onAbort(AbortSignal.abort(), () => calls.push("fired"));
    const controller = new AbortController();
    onAbort(controller.signal, () => calls.push("later"));
    const removed = new AbortController();
    onAbort(removed.signal, () => calls.push("removed"))();
    removed.abort();
    controller.abort();
    controller.abort();
    expect(calls).toEqual(["fired", "later"]);
    expect(() => throwIfAborted(controller.signal)).toThrow(/aborted/);
    expect(() => throwIfAborted(undefined)).not.toThrow();
    expect(() => checkSignal({}, "options.signal")).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_INVALID_ARG_TYPE",
        message:
          'The "options.signal" property must be an instance of AbortSignal. Received an instance of Object',
      }),
    );
  });
});
