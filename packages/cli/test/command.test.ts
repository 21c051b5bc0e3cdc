import { once } from "node:events";
import net from "node:net";
import { PassThrough } from "node:stream";
import {
  type CommandContext,
  type CommandOptions,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  type FlagSpecs,
  type FlagValues,
  formatFailure,
  formatHelp,
  parseHostFlag,
  parseIntegerFlag,
  parseNumberFlag,
  parsePortFlag,
  portFlag,
  runCommand,
  UsageError,
} from "@socket-lab/cli";
import { ErrorCode, SocketError } from "@socket-lab/core";
import { afterEach, describe, expect, test, vi } from "vitest";

const flags = {
  host: { type: "string", description: "server host", valueName: "HOST", defaultText: "127.0.0.1" },
  port: {
    type: "string",
    short: "p",
    description: "server port",
    valueName: "PORT",
    defaultText: "7000",
  },
  count: { type: "string", short: "n", description: "messages to send", valueName: "N" },
  loss: { type: "string", description: "drop rate from 0 to 1", valueName: "RATE" },
  trace: { type: "boolean", description: "print the socket calls" },
} as const satisfies FlagSpecs;

/** A run that checks its flag values the way the apps do. */
const checkValues: Run = ({ values }) => {
  if (values.host !== undefined) parseHostFlag("host", values.host);
  if (values.port !== undefined) parsePortFlag("port", values.port);
  if (values.count !== undefined) parseIntegerFlag("count", values.count, { min: 1 });
  if (values.loss !== undefined) parseNumberFlag("loss", values.loss, { min: 0, max: 1 });
  return EXIT_OK;
};

type Run = CommandOptions<typeof flags>["run"];

/** Longest any single wait in these tests may take, in ms. */
const WAIT_MS = 30_000;

/** A port on 127.0.0.1 that nothing listens on: bound by us a moment ago, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening", { signal: AbortSignal.timeout(WAIT_MS) });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function command(run: Run, extra: Partial<CommandOptions<typeof flags>> = {}) {
  return {
    name: "echo-client",
    version: "1.2.3",
    description: "sends a line and prints the reply",
    usage: "[HOST] [options]",
    flags,
    maxPositionals: 1,
    examples: ["echo-client --port 7000", "echo-client ::1 -p 7001"],
    run,
    ...extra,
  } satisfies CommandOptions<typeof flags>;
}

/** Runs a command with in-memory streams; returns its exit code and what it printed. */
async function runWith<F extends FlagSpecs>(options: CommandOptions<F>, argv: readonly string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const code = await runCommand(options, { argv, stdin: new PassThrough(), stdout, stderr });
  stdout.end();
  stderr.end();
  return {
    code,
    stdout: String(stdout.read() ?? ""),
    stderr: String(stderr.read() ?? ""),
  };
}

const processEvents = ["SIGINT", "SIGTERM", "uncaughtException", "unhandledRejection"] as const;
const listenerCounts = () => processEvents.map((event) => process.listenerCount(event));

/**
 * Stands in for process.exit while a test runs, so a signal or fatal-error path can never end
 * the Vitest worker; the calls are recorded instead.
 */
function stubExit() {
  return vi.spyOn(process, "exit").mockImplementation((() => undefined) as typeof process.exit);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("runCommand: flags", () => {
  test("passes flag values, defaults and positionals to run", async () => {
    let seen: CommandContext<typeof flags> | undefined;
    const result = await runWith(
      command((context) => {
        seen = context;
        context.stdout.write("ran\n");
      }),
      ["::1", "-p", "7001", "--trace"],
    );
    expect(result).toEqual({ code: EXIT_OK, stdout: "ran\n", stderr: "" });
    expect(seen?.values).toEqual({
      host: undefined,
      port: "7001",
      count: undefined,
      loss: undefined,
      trace: true,
    });
    expect(seen?.positionals).toEqual(["::1"]);
    expect(seen?.signal.aborted).toBe(false);
  });

  test("absent flags: booleans are false, strings undefined; built-in flags are not passed", async () => {
    let values: unknown;
    await runWith(
      command(({ values: v }) => {
        values = v;
      }),
      ["--verbose"],
    );
    expect(values).toEqual({
      host: undefined,
      port: undefined,
      count: undefined,
      loss: undefined,
      trace: false,
    });
  });

  test("run's result is the exit code", async () => {
    expect(
      (
        await runWith(
          command(() => 3),
          [],
        )
      ).code,
    ).toBe(3);
    expect(
      (
        await runWith(
          command(async () => undefined),
          [],
        )
      ).code,
    ).toBe(EXIT_OK);
  });

  test.each([["--help"], ["-h"], ["--port", "x", "--help"]])(
    "%s prints the help to stdout and exits 0 without running",
    async (...argv) => {
      const run = vi.fn();
      const result = await runWith(command(run), argv);
      expect(result.code).toBe(EXIT_OK);
      expect(result.stderr).toBe("");
      expect(result.stdout).toBe(formatHelp(command(run)));
      expect(run).not.toHaveBeenCalled();
    },
  );

  test("the help lists usage, every flag with its value name and default, and examples", () => {
    const lines = formatHelp(command(() => 0)).split("\n");
    expect(lines.slice(0, 6)).toEqual([
      "echo-client — sends a line and prints the reply",
      "",
      "Usage:",
      "  echo-client [HOST] [options]",
      "",
      "Options:",
    ]);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ {6}--host HOST +server host \(default: 127\.0\.0\.1\)$/),
        expect.stringMatching(/^ {2}-p, --port PORT +server port \(default: 7000\)$/),
        expect.stringMatching(/^ {2}-n, --count N +messages to send$/),
        expect.stringMatching(/^ {6}--trace +print the socket calls$/),
        expect.stringMatching(/^ {2}-h, --help +show this help and exit$/),
        expect.stringMatching(/^ {2}-V, --version +print the version and exit$/),
        expect.stringMatching(/^ {6}--verbose +print stack traces with errors$/),
        "Examples:",
        "  echo-client ::1 -p 7001",
      ]),
    );
    // Without examples there is no Examples section; a string flag without valueName says VALUE.
    const bare = formatHelp({
      name: "bare",
      version: "0.0.0",
      description: "has one flag",
      usage: "[options]",
      flags: { host: { type: "string", description: "host" } },
      run: () => 0,
    });
    expect(bare).not.toContain("Examples:");
    expect(bare).toContain("--host VALUE");
  });

  test.each([["--version"], ["-V"]])("%s prints name and version and exits 0", async (flag) => {
    const run = vi.fn();
    expect(await runWith(command(run), [flag])).toEqual({
      code: EXIT_OK,
      stdout: "echo-client 1.2.3\n",
      stderr: "",
    });
    expect(run).not.toHaveBeenCalled();
  });
});

describe("runCommand: flags that carry their parser and default", () => {
  const parsing = {
    port: { ...portFlag(7000), default: 7000 },
    count: {
      type: "string",
      short: "n",
      description: "messages to send",
      parse: (flag, value) => parseIntegerFlag(flag, value, { min: 1 }),
    },
  } as const satisfies FlagSpecs;
  const parsingCommand = (run: (values: FlagValues<typeof parsing>) => void) => ({
    ...command(() => EXIT_OK),
    flags: parsing,
    run: ({ values }: CommandContext<typeof parsing>) => {
      run(values);
      return EXIT_OK;
    },
  });

  test("run sees the parsed value, the default when absent, undefined without a default", async () => {
    const seen: FlagValues<typeof parsing>[] = [];
    const run = (values: FlagValues<typeof parsing>) => {
      seen.push(values);
    };
    expect((await runWith(parsingCommand(run), ["-p", "7001", "-n", "3"])).code).toBe(EXIT_OK);
    expect((await runWith(parsingCommand(run), [])).code).toBe(EXIT_OK);
    expect(seen).toEqual([
      { port: 7001, count: 3 },
      { port: 7000, count: undefined },
    ]);
  });

  test("a bad value is a usage error before run, naming the flag", async () => {
    const run = vi.fn();
    expect(await runWith(parsingCommand(run), ["-n", "0"])).toEqual({
      code: EXIT_USAGE,
      stdout: "",
      stderr: `echo-client: --count: 0 is out of range (1–${Number.MAX_SAFE_INTEGER})\nRun 'echo-client --help' for usage.\n`,
    });
    expect(run).not.toHaveBeenCalled();
  });

  test("--help shows the default from `default` when there is no defaultText", async () => {
    const withoutText = { count: { ...parsing.count, default: 5 } } as const satisfies FlagSpecs;
    const help = formatHelp({ ...command(() => EXIT_OK), flags: withoutText, run: () => EXIT_OK });
    expect(help).toContain("messages to send (default: 5)");
  });
});

describe("runCommand: a boolean flag with words", () => {
  const worded = {
    trace: { type: "boolean", words: ["text", "mermaid"], description: "print the socket calls" },
  } as const satisfies FlagSpecs;
  const commandWith = (run: CommandOptions<typeof worded>["run"]) => ({
    name: "prog",
    version: "1.0.0",
    description: "d",
    usage: "[options]",
    flags: worded,
    maxPositionals: 1,
    run,
  });

  test.each([
    [[], false],
    [["--trace"], true],
    [["--trace=mermaid"], "mermaid"],
    [["--trace=text"], "text"],
  ] as const)("%j gives %j", async (argv, value) => {
    let seen: unknown;
    const result = await runWith(
      commandWith(({ values }) => {
        seen = values.trace;
        return 0;
      }),
      argv,
    );
    expect(result.code).toBe(EXIT_OK);
    expect(seen).toBe(value);
  });

  test("another word is a usage error naming the choices; after -- it is a positional", async () => {
    const result = await runWith(
      commandWith(() => 0),
      ["--trace=yes"],
    );
    expect(result).toEqual({
      code: EXIT_USAGE,
      stdout: "",
      stderr: "prog: --trace: 'yes' is not one of text, mermaid\nRun 'prog --help' for usage.\n",
    });
    let positionals: readonly string[] = [];
    await runWith(
      commandWith((context) => {
        positionals = context.positionals;
        return 0;
      }),
      ["--", "--trace=yes"],
    );
    expect(positionals).toEqual(["--trace=yes"]);
  });

  test("the help shows the words", () => {
    expect(formatHelp(commandWith(() => 0))).toMatch(
      /^ {6}--trace\[=text\|mermaid\] +print the socket calls$/m,
    );
  });
});

describe("runCommand: usage errors exit 2 with one line and a pointer to --help", () => {
  test.each([
    [["--prot", "7000"], "Unknown option '--prot'"],
    [["-x"], "Unknown option '-x'"],
    [["--port"], "--port"],
    [["--trace=yes"], "--trace"],
    [["a", "b"], "too many arguments: 'a' 'b'"],
  ])("%j", async (argv, fragment) => {
    const run = vi.fn();
    const result = await runWith(command(run), argv);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe("");
    const [first, second, rest] = result.stderr.split("\n");
    expect(first).toMatch(/^echo-client: /);
    expect(first).toContain(fragment);
    expect(second).toBe("Run 'echo-client --help' for usage.");
    expect(rest).toBe("");
    expect(run).not.toHaveBeenCalled();
  });

  test("a command without positionals names the unexpected one", async () => {
    const result = await runWith(
      command(() => 0, { maxPositionals: undefined }),
      ["localhost"],
    );
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("echo-client: unexpected argument 'localhost'\n");
  });

  test.each([
    [["--port", "70000"], "--port: 70000 is out of range (0–65535)"],
    [["-p", "http"], "--port: 'http' is not a port number (0–65535)"],
    [["--host", "999.1.1.1"], "--host: '999.1.1.1' is not a valid host name or IP address"],
    [["-n", "0"], `--count: 0 is out of range (1–${Number.MAX_SAFE_INTEGER})`],
    [["--count", "ten"], "--count: 'ten' is not a whole number"],
    [["--loss", "2"], "--loss: 2 is out of range (0–1)"],
    [["--loss", "half"], "--loss: 'half' is not a number"],
  ])("a bad value found by run: %j", async (argv, message) => {
    const result = await runWith(command(checkValues), argv);
    expect(result).toEqual({
      code: EXIT_USAGE,
      stdout: "",
      stderr: `echo-client: ${message}\nRun 'echo-client --help' for usage.\n`,
    });
  });

  test("good values pass the same checks", async () => {
    const argv = ["--host", "[::1]", "-p", "0", "-n", "3", "--loss", "0.5"];
    expect((await runWith(command(checkValues), argv)).code).toBe(EXIT_OK);
  });
});

describe("runCommand: run-time errors exit 1 with one line and a hint", () => {
  test("a real refused connection: one line, the endpoint and the hint, no stack", async () => {
    const port = await closedPort();
    const result = await runWith(
      command(async () => {
        const socket = net.connect({ host: "127.0.0.1", port });
        const [err] = await once(socket, "error", { signal: AbortSignal.timeout(WAIT_MS) });
        throw err;
      }),
      [],
    );
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `echo-client: connection refused by 127.0.0.1:${port} — no server is listening there. ` +
        "Is the server running? Start it first, or check the host and port. " +
        "Note that 'localhost' may mean ::1 while the server listens on 127.0.0.1.\n",
    );
  });

  test("--verbose adds the stack trace after the line", async () => {
    const result = await runWith(
      command(() => {
        throw new SocketError(ErrorCode.ERR_TIMEOUT, "connect to 127.0.0.1:7000 timed out");
      }),
      ["--verbose"],
    );
    expect(result.code).toBe(EXIT_FAILURE);
    const [line, stackHead, frame] = result.stderr.split("\n");
    expect(line).toBe("echo-client: connect to 127.0.0.1:7000 timed out");
    expect(stackHead).toBe("SocketError: connect to 127.0.0.1:7000 timed out");
    expect(frame).toMatch(/^ {4}at /);
  });

  test("the command's hints replace the default hint by code", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:7000"), {
      code: "ECONNREFUSED",
      syscall: "connect",
      address: "127.0.0.1",
      port: 7000,
    });
    const result = await runWith(
      command(
        () => {
          throw refused;
        },
        { hints: { ECONNREFUSED: "Start one with: pnpm tcp:server" } },
      ),
      [],
    );
    expect(result.stderr).toBe(
      "echo-client: connection refused by 127.0.0.1:7000 — no server is listening there. Start one with: pnpm tcp:server\n",
    );
  });

  test("an error with several lines or a final stop still prints one line", () => {
    expect(formatFailure("app", new Error("first line\nsecond line"))).toBe("app: first line");
    expect(formatFailure("app", new Error("it broke."), { ERR_UNKNOWN: "Try again." })).toBe(
      "app: it broke. Try again.",
    );
    expect(formatFailure("app", "a thrown string")).toBe("app: a thrown string");
  });
});

describe("runCommand: process handlers", () => {
  test("SIGINT aborts the signal run awaits; the handlers are removed afterwards", async () => {
    const exit = stubExit();
    const before = listenerCounts();
    const result = await runWith(
      command(async ({ signal, stdout }) => {
        const aborted = once(signal, "abort");
        process.emit("SIGINT", "SIGINT");
        await aborted;
        const reason = signal.reason as SocketError;
        stdout.write(`${reason.code}: ${reason.message}\n`);
        return 130;
      }),
      [],
    );
    expect(result).toEqual({ code: 130, stdout: "ERR_ABORTED: received SIGINT\n", stderr: "" });
    expect(exit).not.toHaveBeenCalled();
    expect(listenerCounts()).toEqual(before);
  });

  test("SIGTERM aborts too; a second signal exits at once with 130", async () => {
    const exit = stubExit();
    const result = await runWith(
      command(async ({ signal }) => {
        process.emit("SIGTERM", "SIGTERM");
        expect(signal.reason).toMatchObject({ message: "received SIGTERM" });
        expect(exit).not.toHaveBeenCalled();
        process.emit("SIGINT", "SIGINT");
        return 0;
      }),
      [],
    );
    expect(result.code).toBe(EXIT_OK);
    expect(exit).toHaveBeenCalledExactlyOnceWith(130);
  });

  test("an uncaught exception during run is printed as one line and exits 1", async () => {
    const exit = stubExit();
    const result = await runWith(
      command(() => {
        // Call runCommand's handler directly: emitting the event would reach Vitest's own.
        const onFatal = process.listeners("uncaughtException").at(-1);
        onFatal?.(new Error("listener blew up"), "uncaughtException");
        return 0;
      }),
      [],
    );
    expect(result.stderr).toBe("echo-client: listener blew up\n");
    expect(exit).toHaveBeenCalledExactlyOnceWith(EXIT_FAILURE);
  });
});

describe("flag value parsers", () => {
  test("parseIntegerFlag: whole numbers within a range", () => {
    expect(parseIntegerFlag("count", "10")).toBe(10);
    expect(parseIntegerFlag("count", " 7 ")).toBe(7);
    expect(parseIntegerFlag("offset", "-3", { min: -5 })).toBe(-3);
    expect(() => parseIntegerFlag("count", "1.5")).toThrow(
      new UsageError("--count: '1.5' is not a whole number"),
    );
    expect(() => parseIntegerFlag("count", "")).toThrow("--count: '' is not a whole number");
    expect(() => parseIntegerFlag("count", "-1")).toThrow(
      `--count: -1 is out of range (0–${Number.MAX_SAFE_INTEGER})`,
    );
    expect(() => parseIntegerFlag("count", "11", { min: 1, max: 10 })).toThrow(
      "--count: 11 is out of range (1–10)",
    );
  });

  test("parseNumberFlag: decimals within a range", () => {
    expect(parseNumberFlag("loss", "0.25", { min: 0, max: 1 })).toBe(0.25);
    expect(parseNumberFlag("loss", "1", { min: 0, max: 1 })).toBe(1);
    for (const bad of ["", " ", "abc", "Infinity", "NaN"]) {
      expect(() => parseNumberFlag("loss", bad, { min: 0, max: 1 })).toThrow(
        new UsageError(`--loss: '${bad}' is not a number`),
      );
    }
    expect(() => parseNumberFlag("loss", "1.5", { min: 0, max: 1 })).toThrow(
      "--loss: 1.5 is out of range (0–1)",
    );
  });

  test("parsePortFlag: 0–65535", () => {
    expect(parsePortFlag("port", "0")).toBe(0);
    expect(parsePortFlag("port", " 65535 ")).toBe(65_535);
    expect(() => parsePortFlag("port", "65536")).toThrow(
      new UsageError("--port: 65536 is out of range (0–65535)"),
    );
    expect(() => parsePortFlag("port", "-1")).toThrow("--port: '-1' is not a port number");
  });

  test("parseHostFlag: a host name or an IP address, IPv6 with or without brackets", () => {
    expect(parseHostFlag("host", "127.0.0.1")).toBe("127.0.0.1");
    expect(parseHostFlag("host", "::1")).toBe("::1");
    expect(parseHostFlag("host", "[::1]")).toBe("::1");
    expect(parseHostFlag("host", "localhost")).toBe("localhost");
    expect(() => parseHostFlag("host", "")).toThrow(
      new UsageError("--host: '' is not a valid host name or IP address"),
    );
    expect(() => parseHostFlag("host", "999.1.1.1")).toThrow("'999.1.1.1' is not a valid host");
    expect(() => parseHostFlag("host", "[127.0.0.1]")).toThrow(
      "--host: '[127.0.0.1]' has brackets but '127.0.0.1' is not an IPv6 address",
    );
  });

  test("UsageError is an Error named UsageError", () => {
    const err = new UsageError("bad");
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("UsageError");
  });
});
