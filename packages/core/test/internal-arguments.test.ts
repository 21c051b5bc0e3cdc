/**
 * `@socket-lab/core/internal`'s argument checks: Node's codes, Node's wording, one for every
 * package.
 */

import { describe, expect, it } from "vitest";
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkMs,
  checkNumber,
  checkOneOf,
  checkSignal,
  checkString,
  invalidArgType,
  invalidArgValue,
  MAX_TIMER_MS,
  outOfRange,
  withDefaults,
} from "../src/internal/index.js";

/** What `fn` throws, for its class, code and message. */
function thrown(fn: () => unknown): { type: string; code: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    const error = err as Error & { code?: unknown };
    return { type: error.constructor.name, code: error.code, message: error.message };
  }
  throw new Error("did not throw");
}

describe("checkInteger()", () => {
  it("returns an integer in range, and -0 as 0", () => {
    expect(checkInteger("window", 5, 1, 10)).toBe(5);
    expect(checkInteger("window", 1, 1, 10)).toBe(1);
    expect(checkInteger("window", 10, 1, 10)).toBe(10);
    expect(Object.is(checkInteger("backlog", -0, 0), 0)).toBe(true);
  });

  it("a value of another type is ERR_INVALID_ARG_TYPE, a TypeError", () => {
    expect(thrown(() => checkInteger("timeoutMs", "5", 0))).toEqual({
      type: "TypeError",
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "timeoutMs" option must be of type number. Received type string ('5')`,
    });
    expect(thrown(() => checkInteger("timeoutMs", 5n, 0)).message).toBe(
      `The "timeoutMs" option must be of type number. Received type bigint (5n)`,
    );
    expect(thrown(() => checkInteger("timeoutMs", undefined, 0)).message).toBe(
      `The "timeoutMs" option must be of type number. Received undefined`,
    );
    expect(thrown(() => checkInteger("timeoutMs", null, 0)).message).toBe(
      `The "timeoutMs" option must be of type number. Received null`,
    );
    expect(thrown(() => checkInteger("timeoutMs", { ms: 5 }, 0)).message).toBe(
      `The "timeoutMs" option must be of type number. Received an instance of Object`,
    );
    expect(thrown(() => checkInteger("timeoutMs", "x".repeat(40), 0)).message).toBe(
      `The "timeoutMs" option must be of type number. Received type string ('xxxxxxxxxxxxxxxxxxxxxxxx...)`,
    );
  });

  it("NaN, Infinity, fractions and values out of range are ERR_OUT_OF_RANGE, a RangeError", () => {
    expect(thrown(() => checkInteger("window", 0, 1))).toEqual({
      type: "RangeError",
      code: "ERR_OUT_OF_RANGE",
      message: `The value of "window" is out of range. It must be an integer >= 1. Received 0`,
    });
    const range = `The value of "window" is out of range. It must be an integer >= 1 && <= 10.`;
    expect(thrown(() => checkInteger("window", 11, 1, 10)).message).toBe(`${range} Received 11`);
    expect(thrown(() => checkInteger("window", 1.5, 1, 10)).message).toBe(`${range} Received 1.5`);
    expect(thrown(() => checkInteger("window", Number.NaN, 1, 10)).message).toBe(
      `${range} Received NaN`,
    );
    expect(thrown(() => checkInteger("window", Infinity, 1, 10)).message).toBe(
      `${range} Received Infinity`,
    );
    expect(thrown(() => checkInteger("window", -0, 1, 10)).message).toBe(`${range} Received -0`);
    expect(thrown(() => checkInteger("sent argument", 2, 3)).message).toBe(
      `The value of "sent" is out of range. It must be an integer >= 3. Received 2`,
    );
    for (const bad of [Number.NaN, -Infinity, 0.1, -1]) {
      expect(thrown(() => checkInteger("window", bad, 0)).code).toBe("ERR_OUT_OF_RANGE");
    }
  });

  it("prints large numbers grouped, as Node does", () => {
    expect(thrown(() => checkInteger("seq", 2 ** 32 + 1, 0, 2 ** 32 - 1)).message).toBe(
      `The value of "seq" is out of range. It must be an integer >= 0 && <= 4294967295. Received 4_294_967_297`,
    );
    expect(outOfRange("seq", "an integer", 2n ** 40n).message).toBe(
      `The value of "seq" is out of range. It must be an integer. Received 1_099_511_627_776n`,
    );
  });

  it("without bounds it takes any safe integer", () => {
    expect(checkInteger("n", Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(thrown(() => checkInteger("n", 2 ** 53)).message).toBe(
      `The value of "n" is out of range. It must be an integer. Received 9_007_199_254_740_992`,
    );
  });
});

describe("checkNumber() and checkMs()", () => {
  it("takes fractions in range; NaN never, Infinity only when max is Infinity", () => {
    expect(checkNumber("loss", 0.25, 0, 1)).toBe(0.25);
    expect(Object.is(checkNumber("loss", -0, 0, 1), 0)).toBe(true);
    expect(checkNumber("backoff", Infinity, 1)).toBe(Infinity);
    expect(thrown(() => checkNumber("loss", Number.NaN, 0, 1))).toEqual({
      type: "RangeError",
      code: "ERR_OUT_OF_RANGE",
      message: `The value of "loss" is out of range. It must be a number >= 0 && <= 1. Received NaN`,
    });
    expect(thrown(() => checkNumber("loss", 1.5, 0, 1)).message).toMatch(/Received 1\.5$/);
    expect(thrown(() => checkNumber("backoff", Number.NaN, 1)).code).toBe("ERR_OUT_OF_RANGE");
    expect(thrown(() => checkNumber("loss", "0.5", 0, 1)).code).toBe("ERR_INVALID_ARG_TYPE");
  });

  it("Number.MAX_VALUE as max means any finite number", () => {
    expect(thrown(() => checkNumber("backoff.factor", Infinity, 1, Number.MAX_VALUE))).toEqual({
      type: "RangeError",
      code: "ERR_OUT_OF_RANGE",
      message: `The value of "backoff.factor" is out of range. It must be a finite number >= 1. Received Infinity`,
    });
  });

  it("checkMs() takes whole milliseconds a timer can wait", () => {
    expect(checkMs("delayMs", 0)).toBe(0);
    expect(checkMs("delayMs", MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    expect(thrown(() => checkMs("delayMs", MAX_TIMER_MS + 1)).message).toBe(
      `The value of "delayMs" is out of range. It must be an integer >= 0 && <= 2147483647. Received 2147483648`,
    );
    expect(thrown(() => checkMs("timeoutMs", 0, 1)).message).toBe(
      `The value of "timeoutMs" is out of range. It must be an integer >= 1 && <= 2147483647. Received 0`,
    );
  });
});

describe("checkBoolean(), checkString(), checkFunction(), checkSignal()", () => {
  it("name the expected type and what was received", () => {
    expect(checkBoolean("noDelay", false)).toBe(false);
    expect(checkString("host", "::1")).toBe("::1");
    expect(thrown(() => checkBoolean("noDelay", "yes"))).toEqual({
      type: "TypeError",
      code: "ERR_INVALID_ARG_TYPE",
      message: `The "noDelay" option must be of type boolean. Received type string ('yes')`,
    });
    expect(thrown(() => checkString("host", 1)).message).toBe(
      `The "host" option must be of type string. Received type number (1)`,
    );
    expect(thrown(() => checkFunction("handler argument", 1)).message).toBe(
      `The "handler" argument must be of type function. Received type number (1)`,
    );
    expect(thrown(() => checkFunction("trace", Symbol("t"))).message).toBe(
      `The "trace" option must be of type function. Received type symbol (Symbol(t))`,
    );
    expect(() => checkSignal(undefined)).not.toThrow();
    expect(thrown(() => checkSignal(function signal() {})).message).toBe(
      `The "signal" option must be an instance of AbortSignal. Received function signal`,
    );
  });
});

describe("checkOneOf() and invalidArgValue()", () => {
  it("a value of the right type that is not allowed is ERR_INVALID_ARG_VALUE, a TypeError", () => {
    expect(checkOneOf("direction", "both", ["both", "up"])).toBe("both");
    expect(thrown(() => checkOneOf("direction", "down", ["both", "up"]))).toEqual({
      type: "TypeError",
      code: "ERR_INVALID_ARG_VALUE",
      message: `The "direction" option must be one of: 'both', 'up'. Received 'down'`,
    });
    expect(thrown(() => checkOneOf("chunking.mode", 1, ["bytes"])).message).toBe(
      `The "chunking.mode" property must be one of: 'bytes'. Received 1`,
    );
    expect(invalidArgValue("hosts", []).message).toBe(`The "hosts" option is invalid. Received []`);
  });

  it("invalidArgType() words any expectation", () => {
    const error = invalidArgType("payload", "of type string or an instance of Uint8Array", 5);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(
      `The "payload" option must be of type string or an instance of Uint8Array. Received type number (5)`,
    );
  });
});

describe("withDefaults()", () => {
  it("fills what is missing or undefined, once", () => {
    const defaults = { port: 7000, host: "127.0.0.1" };
    expect(withDefaults(defaults, { port: undefined, host: "::1" })).toEqual({
      port: 7000,
      host: "::1",
    });
    expect(withDefaults(defaults, undefined)).toEqual(defaults);
    expect(withDefaults(defaults, { port: 0, extra: null })).toEqual({
      port: 0,
      host: "127.0.0.1",
      extra: null,
    });
    expect(defaults).toEqual({ port: 7000, host: "127.0.0.1" });
  });
});
