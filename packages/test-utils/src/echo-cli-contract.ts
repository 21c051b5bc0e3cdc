/**
 * The behaviour tcp-echo and udp-echo share by design (one CLI shape), as one suite each app
 * runs against its own built programs. What only one protocol does (framing, backlog, retries,
 * amplification, the syscall story of --trace, what "no server" looks like) stays in that app's
 * own tests.
 *
 * @example Fragment: a test file (it adds tests when imported)
 * // apps/<app>/test/cli-contract.test.ts
 * import { echoCliContract } from "@socket-lab/test-utils/echo-cli-contract";
 * import * as programs from "./_spawn.js";
 * echoCliContract({ protocol: "udp", programs, defaultPort: 7001, ... });
 */

import { afterEach, describe, expect, test } from "vitest";
import { helpDefaults } from "./help-defaults.js";
import { ESCAPED, HOSTILE, hasRawControls } from "./peer-text.js";
import type { createPrograms } from "./programs.js";

type Programs = Pick<
  ReturnType<typeof createPrograms>,
  "run" | "startServer" | "interrupt" | "stopAll"
>;

/** A usage error: the arguments, and the message that follows `<program>: ` on stderr. */
export type UsageError = readonly [args: readonly string[], message: string];

/** What one program (client or server) shows beyond what both protocols share. */
export interface ProgramContract {
  /** Texts --help shows besides the shared flags: this protocol's own flags and defaults. */
  readonly help: readonly string[];
  /** Texts --help must not show: the other protocol's flags. */
  readonly helpOmits: readonly string[];
  /**
   * Every default --help shows, by flag (the shared --host and --port too), made from the
   * constants the program applies, so that a default copied into the help text can't drift.
   */
  readonly helpDefaults: Readonly<Record<string, string>>;
  /** Usage errors (exit 2) besides the shared ones. */
  readonly usageErrors: readonly UsageError[];
}

/** How one app meets the shared contract. */
export interface EchoCliContractOptions {
  /** Names the programs (`<protocol>-echo-client`) and the endpoints (`<protocol>://`). */
  readonly protocol: "tcp" | "udp";
  /** The app's built programs (its test/_spawn.ts). */
  readonly programs: Programs;
  /** The port both programs use when none is given, shown in --help. */
  readonly defaultPort: number;
  /** What the server's summary counts its clients as: "connection" (tcp) or "peer" (udp). */
  readonly peer: "connection" | "peer";
  readonly client: ProgramContract & {
    /** Fields each `--json` reply line has besides event, seq, message and reply. */
    readonly replyFields: Readonly<Record<string, unknown>>;
    /** RegExp source for what ends the `--count` summary after "got every reply in N ms". */
    readonly countSummaryTail: string;
    /** The server's summary after one client piped 1,000 lines. */
    readonly thousandLinesSummary: RegExp;
  };
  readonly server: ProgramContract & {
    /** Every `--json` event, in order, when one client sends "hi" and SIGTERM stops the server. */
    readonly jsonEvents: readonly string[];
    /** The `message` record's fields besides event, text and reply. */
    readonly jsonMessage: Readonly<Record<string, unknown>>;
    /** The whole `stopped` record. */
    readonly jsonStopped: Readonly<Record<string, unknown>>;
  };
}

/** Runs every case; each must exit 2 with `<program>: <message>` on stderr. */
async function expectUsageErrors(
  programs: Programs,
  entry: "client-cli" | "server-cli",
  name: string,
  cases: readonly UsageError[],
): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => programs.run(entry, args)));
  results.forEach((result, i) => {
    const [args, message] = cases[i] as UsageError;
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr).toContain(`${name}: ${message}`);
    if (entry === "server-cli") expect(result.stderr).toContain(`Run '${name} --help' for usage.`);
  });
}

/** Checks a program's --help against the shared flags and its own `contract`. */
async function expectHelp(
  programs: Programs,
  entry: "client-cli" | "server-cli",
  shared: readonly string[],
  contract: ProgramContract,
): Promise<void> {
  const help = await programs.run(entry, ["--help"]);
  expect(help.code).toBe(0);
  for (const text of [...shared, ...contract.help]) expect(help.stdout).toContain(text);
  for (const text of contract.helpOmits) expect(help.stdout).not.toContain(text);
  expect(helpDefaults(help.stdout)).toEqual(contract.helpDefaults);
}

/**
 * Declares the shared client and server tests for one app. Call it once, at the top of a test
 * file; the app must be built.
 *
 * @example Fragment: a test file (it adds tests when imported)
 * echoCliContract({
 *   protocol: "tcp",
 *   programs,
 *   defaultPort: 7000,
 *   peer: "connection",
 *   client: { help: ["--framing"], helpOmits: ["--retries"], usageErrors: [], replyFields: {},
 *     countSummaryTail: "", thousandLinesSummary: /stopped: 1 connection, 1000 messages\n/ },
 *   server: { help: [], helpOmits: [], usageErrors: [], jsonEvents: ["listening", "message",
 *     "stopped"], jsonMessage: {}, jsonStopped: { event: "stopped" } },
 * });
 */
export function echoCliContract(options: EchoCliContractOptions): void {
  const { protocol, programs, defaultPort, peer, client: clientContract } = options;
  const { run, startServer, interrupt } = programs;
  const clientName = `${protocol}-echo-client`;
  const serverName = `${protocol}-echo-server`;

  describe(`${clientName} (shared contract)`, () => {
    afterEach(programs.stopAll);

    test("with no stdin at all it sends 'Hello from client', prints the reply and exits 0", async () => {
      const { server, port } = await startServer();
      const client = await run("client-cli", ["--port", port], { stdin: "ignore" });
      expect(client).toMatchObject({ code: 0, stdout: "Hello from client\n", stderr: "" });
      await server.line(/: "Hello from client"$/);
    });

    test("an empty, closed stdin counts as no input: the default message again", async () => {
      const { port } = await startServer();
      expect(await run("client-cli", ["--port", port], { stdin: "" })).toMatchObject({
        code: 0,
        stdout: "Hello from client\n",
      });
    });

    test("--message sends that text instead", async () => {
      const { port } = await startServer();
      expect(await run("client-cli", ["--port", port, "--message", "Hi there"])).toMatchObject({
        code: 0,
        stdout: "Hi there\n",
      });
    });

    test("1,000 piped lines: 1,000 replies, in order, then exit 0", async () => {
      const { server, port } = await startServer();
      const lines = Array.from({ length: 1000 }, (_, i) => `line ${i + 1} ${"x".repeat(i % 50)}`);
      const client = await run("client-cli", ["--port", port], { stdin: `${lines.join("\n")}\n` });
      expect(client.code).toBe(0);
      expect(client.stdout).toBe(`${lines.join("\n")}\n`);
      const stopped = await interrupt(server);
      expect(stopped.stdout).toMatch(clientContract.thousandLinesSummary);
    });

    test("--count N sends N numbered messages and prints a summary; --json makes it one JSON line", async () => {
      const { server, port } = await startServer();
      const text = await run("client-cli", ["--port", port, "--count", "20"]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(
        new RegExp(
          `^sent 20 messages to ${protocol}://127\\.0\\.0\\.1:${port}, got every reply in [\\d.]+ ms${clientContract.countSummaryTail}\\n$`,
        ),
      );
      // A few lines per client per second are shown (the 10th always), the rest summed up.
      await server.line(/: "Hello from client 10"$/);

      const json = await run("client-cli", ["--port", port, "-n", "3", "-m", "ping", "--json"]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({
        event: "summary",
        server: `${protocol}://127.0.0.1:${port}`,
        messages: 3,
        replies: 3,
      });
      await server.line(/: "ping 3"$/);
    });

    test("--json prints each reply as one JSON object per line", async () => {
      // A reply no longer than the message: a datagram server refuses to amplify.
      const { port } = await startServer(["--reply", "ok"]);
      const client = await run("client-cli", ["--port", port, "--json"], { stdin: "a1\nb1\n" });
      expect(client.code).toBe(0);
      expect(
        client.stdout
          .trimEnd()
          .split("\n")
          .map((line) => JSON.parse(line)),
      ).toEqual([
        { event: "reply", seq: 1, message: "a1", reply: "ok", ...clientContract.replyFields },
        { event: "reply", seq: 2, message: "b1", reply: "ok", ...clientContract.replyFields },
      ]);
    });

    test("localhost reaches a server on ::1 and one on 127.0.0.1", async () => {
      const v6 = await startServer(["--host", "::1"]);
      expect(v6.server.stdout()).toBe(`listening on ${protocol}://[::1]:${v6.port}\n`);
      expect(await run("client-cli", ["localhost", "--port", v6.port, "-m", "six"])).toMatchObject({
        code: 0,
        stdout: "six\n",
      });
      const v4 = await startServer();
      expect(
        await run("client-cli", ["--host", "localhost", "-p", v4.port, "-m", "four"]),
      ).toMatchObject({ code: 0, stdout: "four\n" });
    });

    test("--help lists every flag with the default port; -V prints the package version", async () => {
      await expectHelp(
        programs,
        "client-cli",
        [
          `${clientName} [HOST] [options]`,
          "--host HOST",
          "--port N",
          "--message TEXT",
          "--count N",
          "--timeout SECONDS",
          "--trace",
          "--json",
          `(default: ${defaultPort})`,
        ],
        clientContract,
      );
      expect(await run("client-cli", ["-V"])).toMatchObject({
        code: 0,
        stdout: `${clientName} 0.1.0\n`,
      });
    });

    test("bad flags and values: a usage error naming the flag, exit 2", async () => {
      await expectUsageErrors(programs, "client-cli", clientName, [
        [["--port", "70000"], "--port: 70000 is out of range (0–65535)"],
        [["--port", "abc"], "--port: 'abc' is not a port number (0–65535)"],
        [["--host", "999.1.1.1"], "--host: '999.1.1.1' is not a valid host name or IP address"],
        [["bad_host!"], "--host: 'bad_host!' is not a valid host name or IP address"],
        [["localhost", "--host", "::1"], "give the host once: as HOST or as --host"],
        [["--message", "a\nb"], "--message: must be one line"],
        [["--count", "0"], "--count: 0 is out of range (1–1000000)"],
        [["--count", "ten"], "--count: 'ten' is not a whole number"],
        [["--timeout", "soon"], "--timeout: 'soon' is not a number"],
        [["--timeout", "0"], "--timeout: 0 is out of range (0.001–3600)"],
        [["--trace=1"], "--trace: '1' is not one of text, mermaid"],
        [["--json=1"], "Option '--json' does not take an argument"],
        [["one", "two"], "too many arguments: 'one' 'two'"],
        ...clientContract.usageErrors,
      ]);
    });
  });

  const serverContract = options.server;
  describe(`${serverName} (shared contract)`, () => {
    afterEach(programs.stopAll);

    test(`prints 'listening on ${protocol}://127.0.0.1:PORT' first, then each sender and text, and echoes`, async () => {
      const { server, port } = await startServer();
      expect(server.stdout().split("\n")[0]).toBe(`listening on ${protocol}://127.0.0.1:${port}`);
      const client = await run("client-cli", ["--port", port], { stdin: "ignore" });
      expect(client).toMatchObject({ code: 0, stdout: "Hello from client\n", stderr: "" });
      await server.line(/^127\.0\.0\.1:\d+: "Hello from client"$/);
    });

    test(`stdout closed after the first line (\`${serverName} | head -1\`): it serves on, says so once on stderr, exits 0 on SIGINT`, async () => {
      const { server, port } = await startServer();
      // `head -1` has read its line and exited: the read end of the pipe is gone.
      server.child.stdout?.destroy();
      for (let i = 1; i <= 3; i += 1) {
        const client = await run("client-cli", ["--port", port, "-m", `still here ${i}`]);
        expect(client).toMatchObject({ code: 0, stdout: `still here ${i}\n` });
      }
      const stopped = await interrupt(server);
      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toBe(
        `${serverName}: stdout closed (EPIPE); serving on without printing\n`,
      );
    });

    test("escape sequences, C1 controls, bidi overrides and U+2028 are shown escaped: server log, --json, and the client", async () => {
      const { server, port } = await startServer();
      const client = await run("client-cli", ["--port", port], { stdin: `${HOSTILE}\n` });
      expect(client).toMatchObject({ code: 0, stdout: `${ESCAPED}\n` });
      await server.line(/: "hi/);
      const json = await run("client-cli", ["--port", port, "--json"], { stdin: `${HOSTILE}\n` });
      expect(JSON.parse(json.stdout)).toMatchObject({ reply: ESCAPED, message: ESCAPED });
      const stopped = await interrupt(server);
      expect(stopped.stdout).toContain(`: "${ESCAPED}"\n`);
      expect(hasRawControls(stopped.stdout)).toBe(false);
    });

    test("--reply answers every message with a fixed text, like the tutorial's server", async () => {
      const { port } = await startServer(["--reply", "Hello from server"]);
      // Messages no shorter than the reply: a datagram server refuses to amplify.
      const stdin = "the first message\nthe second message\n";
      expect(await run("client-cli", ["--port", port], { stdin })).toMatchObject({
        code: 0,
        stdout: "Hello from server\nHello from server\n",
      });
    });

    test("SIGINT stops it gracefully: exit 0 and a one-line summary", async () => {
      const { server, port } = await startServer();
      expect((await run("client-cli", ["--port", port], { stdin: "a\nb\n" })).code).toBe(0);
      expect((await run("client-cli", ["--port", port, "-m", "c"])).code).toBe(0);
      const stopped = await interrupt(server);
      expect(stopped).toMatchObject({ code: 0, signal: null, stderr: "" });
      expect(stopped.stdout.trimEnd().split("\n").at(-1)).toBe(`stopped: 2 ${peer}s, 3 messages`);
    });

    test("SIGTERM stops it too; with --json every line is one JSON object", async () => {
      const { server, port } = await startServer(["--json"]);
      expect((await run("client-cli", ["--port", port, "-m", "hi"])).code).toBe(0);
      await server.line(new RegExp(`"event":"${serverContract.jsonEvents.at(-2)}"`));
      server.child.kill("SIGTERM");
      const stopped = await server.exited();
      expect(stopped.code).toBe(0);
      const records = stopped.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records.map((r) => r.event)).toEqual(serverContract.jsonEvents);
      expect(records[0]).toEqual({
        event: "listening",
        endpoint: `${protocol}://127.0.0.1:${port}`,
      });
      expect(records.find((r) => r.event === "message")).toMatchObject({
        event: "message",
        text: "hi",
        reply: "hi",
        ...serverContract.jsonMessage,
      });
      expect(records.at(-1)).toEqual(serverContract.jsonStopped);
    });

    test("a port in use: exit 1, naming the address and the likely cause", async () => {
      const { port } = await startServer();
      const second = await run("server-cli", ["--port", port]);
      expect(second.code).toBe(1);
      expect(second.stdout).toBe("");
      expect(second.stderr).toBe(
        `${serverName}: address 127.0.0.1:${port} is already in use — another socket is bound there. ` +
          `Another program (perhaps an earlier ${serverName}) holds that port: stop it, or choose another with --port (--port 0 picks a free one).\n`,
      );
    });

    test("--help lists every flag with its default; --version prints the package version", async () => {
      await expectHelp(
        programs,
        "server-cli",
        [
          "--host HOST",
          "--port N",
          "--reply TEXT",
          "--trace",
          "--json",
          `(default: ${defaultPort})`,
        ],
        serverContract,
      );
      expect(await run("server-cli", ["--version"])).toMatchObject({
        code: 0,
        stdout: `${serverName} 0.1.0\n`,
      });
    });

    test("bad flags and values: a usage error naming the flag, exit 2", async () => {
      await expectUsageErrors(programs, "server-cli", serverName, [
        [["--port", "70000"], "--port: 70000 is out of range (0–65535)"],
        [["--port", "abc"], "--port: 'abc' is not a port number (0–65535)"],
        [["--host", "bad_host!"], "--host: 'bad_host!' is not a valid host name or IP address"],
        [["--reply", "two\nlines"], "--reply: must be one line"],
        [["--trace=yes"], "--trace: 'yes' is not one of text, mermaid"],
        [["--json=no"], "Option '--json' does not take an argument"],
        [["extra"], "unexpected argument 'extra'"],
        ...serverContract.usageErrors,
      ]);
    });
  });
}
