import { PassThrough, Readable } from "node:stream";
import {
  clientMessages,
  counted,
  createPrinter,
  HOST_FLAG,
  JSON_FLAG,
  parseChoiceFlag,
  parseLineFlag,
  parseSecondsFlag,
  pipedLinesOr,
  portFlag,
  printable,
  TRACE_FLAG,
  traceFlag,
  UsageError,
  withDefaults,
} from "@socket-lab/cli";
import { DEFAULT_HOST } from "@socket-lab/core";
import { describe, expect, test } from "vitest";

/** Everything an iterable yields, sync or async. */
async function all(source: Iterable<string> | AsyncIterable<string>): Promise<string[]> {
  const items: string[] = [];
  for await (const item of source) items.push(item);
  return items;
}

/** A stdin that is a pipe carrying `text`, or a terminal. */
const piped = (text: string) => Readable.from([Buffer.from(text)]);
const terminal = () => Object.assign(new PassThrough(), { isTTY: true });

/** What a writable received, once it is ended. */
function collect() {
  const stream = new PassThrough();
  return { stream, text: () => String(stream.read() ?? "") };
}

describe("shared flags", () => {
  test("--host, --port, --trace and --json read the same in every app", () => {
    expect(HOST_FLAG).toMatchObject({
      type: "string",
      valueName: "HOST",
      defaultText: DEFAULT_HOST,
    });
    expect(portFlag(7001)).toMatchObject({ type: "string", short: "p", defaultText: "7001" });
    expect(TRACE_FLAG.type).toBe("boolean");
    expect(JSON_FLAG.type).toBe("boolean");
  });

  test("--host's and --port's help defaults parse to the values the apps apply", () => {
    // Both keep no `default` (an app tells an absent --port from a given one), so the text
    // --help shows must be the constant itself, as the parser reads it.
    expect(HOST_FLAG.parse("host", HOST_FLAG.defaultText)).toBe(DEFAULT_HOST);
    for (const port of [0, 7000, 65_535]) {
      const spec = portFlag(port);
      expect(spec.parse("port", spec.defaultText)).toBe(port);
    }
  });

  test("withDefaults keeps a default where the option is absent or undefined", () => {
    const defaults = { host: "127.0.0.1", port: 7000, trace: false };
    expect(withDefaults(defaults, { port: undefined, trace: true, json: true })).toEqual({
      host: "127.0.0.1",
      port: 7000,
      trace: true,
      json: true,
    });
    // A falsy value that is given still wins, and the defaults object is left alone.
    expect(withDefaults(defaults, { port: 0, host: "" })).toEqual({
      host: "",
      port: 0,
      trace: false,
    });
    expect(defaults).toEqual({ host: "127.0.0.1", port: 7000, trace: false });
  });
});

describe("flag value parsers", () => {
  test("parseChoiceFlag accepts one of the words and names them otherwise", () => {
    expect(parseChoiceFlag("framing", "length", ["lines", "length"])).toBe("length");
    expect(() => parseChoiceFlag("framing", "json", ["lines", "length"])).toThrow(
      new UsageError("--framing: 'json' is not one of lines, length"),
    );
    // Case matters: the words are exact.
    expect(() => parseChoiceFlag("framing", "Lines", ["lines", "length"])).toThrow(UsageError);
  });

  test("parseSecondsFlag turns seconds into whole milliseconds within a range", () => {
    expect(parseSecondsFlag("timeout", "0.25", { min: 0.001, max: 3600 })).toBe(250);
    expect(parseSecondsFlag("timeout", "2", { min: 0.001, max: 3600 })).toBe(2000);
    expect(parseSecondsFlag("timeout", "0.0015", { min: 0.001, max: 3600 })).toBe(2);
    // Above 0 never rounds to 0, which options read as "off".
    expect(parseSecondsFlag("idle-timeout", "0.0004", { min: 0, max: 60 })).toBe(1);
    expect(parseSecondsFlag("idle-timeout", "0", { min: 0, max: 60 })).toBe(0);
    expect(() => parseSecondsFlag("timeout", "soon", { min: 0.001, max: 3600 })).toThrow(
      "--timeout: 'soon' is not a number",
    );
    expect(() => parseSecondsFlag("timeout", "0", { min: 0.001, max: 3600 })).toThrow(
      "--timeout: 0 is out of range (0.001–3600)",
    );
  });

  test("parseLineFlag refuses line breaks, which would split the message", () => {
    expect(parseLineFlag("message", "Hello from client")).toBe("Hello from client");
    expect(parseLineFlag("message", "")).toBe("");
    for (const bad of ["a\nb", "a\r\nb", "a\r"]) {
      expect(() => parseLineFlag("message", bad)).toThrow(
        new UsageError("--message: must be one line (no line breaks)"),
      );
    }
  });
});

describe("pipedLinesOr", () => {
  test("yields each piped line without its \\n or \\r\\n, the last even without one", async () => {
    expect(await all(pipedLinesOr(piped("one\r\ntwo\n\nfour"), "hi"))).toEqual([
      "one",
      "two",
      "",
      "four",
    ]);
  });

  test("yields the fallback alone for a terminal, without reading it", async () => {
    const stdin = terminal();
    expect(await all(pipedLinesOr(stdin, "Hello from client"))).toEqual(["Hello from client"]);
    expect(stdin.readableFlowing).toBeNull();
  });

  test("yields the fallback alone for an empty or closed stdin", async () => {
    expect(await all(pipedLinesOr(piped(""), "Hello from client"))).toEqual(["Hello from client"]);
    const closed = new PassThrough();
    closed.end();
    expect(await all(pipedLinesOr(closed, "Hello from client"))).toEqual(["Hello from client"]);
  });

  test("reads lines as they are needed: a consumer can stop early", async () => {
    const stdin = new PassThrough();
    stdin.write("first\nsecond\n");
    const lines = pipedLinesOr(stdin, "hi");
    // The first line comes while stdin is still open: nothing waits for the end of the input.
    expect(await lines.next()).toEqual({ value: "first", done: false });
    expect(await lines.return(undefined)).toEqual({ value: undefined, done: true });
  });
});

describe("clientMessages", () => {
  test("--count N: N numbered messages of --message or the fallback", async () => {
    const stdin = piped("ignored\n");
    expect(await all(clientMessages({ count: 3, stdin, fallback: "hi" }))).toEqual([
      "hi 1",
      "hi 2",
      "hi 3",
    ]);
    expect(await all(clientMessages({ count: 2, message: "ping", stdin, fallback: "hi" }))).toEqual(
      ["ping 1", "ping 2"],
    );
    expect(await all(clientMessages({ count: 0, stdin, fallback: "hi" }))).toEqual([]);
  });

  test("--message TEXT: that one message; otherwise the piped lines or the fallback", async () => {
    expect(
      await all(clientMessages({ message: "ping", stdin: piped("a\n"), fallback: "hi" })),
    ).toEqual(["ping"]);
    expect(await all(clientMessages({ stdin: piped("a\nb\n"), fallback: "hi" }))).toEqual([
      "a",
      "b",
    ]);
    expect(await all(clientMessages({ stdin: terminal(), fallback: "hi" }))).toEqual(["hi"]);
  });
});

describe("output", () => {
  test("createPrinter writes the text, or the data as one JSON line with --json", () => {
    const text = collect();
    createPrinter(text.stream, false)("stopped: 1 connection", {
      event: "stopped",
      connections: 1,
    });
    expect(text.text()).toBe("stopped: 1 connection\n");
    const json = collect();
    const print = createPrinter(json.stream, true);
    print("a", { event: "a", n: 1 });
    print("b", { event: "b", text: "x\ny" });
    const lines = json.text().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).map((line) => JSON.parse(line))).toEqual([
      { event: "a", n: 1 },
      { event: "b", text: "x\ny" },
    ]);
  });

  test("traceFlag writes each event as a line to stderr when enabled, and is absent otherwise", () => {
    const who = { role: "server", name: "srv" } as const;
    const stderr = collect();
    for (const value of [true, "text"] as const) {
      const trace = traceFlag(value, stderr.stream, who);
      trace?.({ type: "listen", backlog: 5, fd: 3 });
      trace?.({ type: "close", fd: 3 });
    }
    expect(stderr.text()).toBe("listen(3, 5)\nclose(3)\n".repeat(2));
    expect(traceFlag(false, stderr.stream, who)).toBeUndefined();
  });

  test("traceFlag with 'mermaid' writes a sequence diagram in which the program is `who`", () => {
    const stderr = collect();
    const trace = traceFlag("mermaid", stderr.stream, { role: "server", name: "srv" });
    trace?.({ type: "listen", backlog: 5, fd: 3 });
    expect(stderr.text()).toBe(
      "sequenceDiagram\n    participant C as clients\n    participant S as srv\n    S->>S: listen(3, 5)\n",
    );
  });

  test("printable quotes text and escapes what could move the cursor or reorder the line", () => {
    expect(printable("Hello from client")).toBe('"Hello from client"');
    expect(printable("hi\u001b[2J")).toBe('"hi\\x1b[2J"');
    expect(printable("a\nb\tc\u0000")).toBe('"a\\nb\\tc\\x00"');
    expect(printable("\u007f\u0085\u2028\u202e\u2066")).toBe('"\\x7f\\x85\\u2028\\u202e\\u2066"');
    // Never cut: a preview is.
    expect(printable("x".repeat(1000))).toBe(`"${"x".repeat(1000)}"`);
    // Ordinary non-ASCII text stays readable.
    expect(printable("héllo 中文 🙂")).toBe('"héllo 中文 🙂"');
  });

  test("counted picks singular or plural", () => {
    expect(counted(0, "message")).toBe("0 messages");
    expect(counted(1, "message")).toBe("1 message");
    expect(counted(2, "connection")).toBe("2 connections");
    expect(counted(1, "try", "tries")).toBe("1 try");
    expect(counted(2, "try", "tries")).toBe("2 tries");
  });
});
