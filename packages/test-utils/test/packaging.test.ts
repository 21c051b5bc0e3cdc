/**
 * The packages as someone outside this workspace gets them: each published package is packed
 * with `pnpm pack` (which applies publishConfig and turns `workspace:^` into `^0.1.0`), the
 * tarballs are installed with npm into fresh projects in a temporary folder, and programs use
 * them from there: an ES module, a CommonJS program, and TypeScript (strict) type-checked with
 * `nodenext` (as ESM and as CommonJS) and with `bundler` resolution. Every socket is on
 * 127.0.0.1, port 0. Needs the packages built (turbo builds them before this test).
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PACKAGES = ["core", "tcp", "udp", "netsim", "reliable-udp"] as const;
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const TYPE_ROOTS = join(ROOT, "node_modules", "@types");
/** npm and pnpm on a busy machine take a while; this bounds each command. */
const COMMAND_MS = 180_000;

/** The name a program gives a package: reliable-udp → reliableUdp. */
function binding(name: string): string {
  return name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
}

let work = "";
let tarballs: string[] = [];
/** One project per module system, each with every tarball installed. */
let esm = "";
let cjs = "";

function run(command: string, args: readonly string[], cwd: string): string {
  return execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: COMMAND_MS,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** A fresh project outside the workspace with every tarball installed by npm. */
function project(name: string, manifest: Record<string, unknown>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, ...manifest }));
  run(
    "npm",
    ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", ...tarballs],
    dir,
  );
  return dir;
}

/** What every program below does: one echo over TCP, one datagram to itself, errors across packages. */
const PROGRAM = (load: string) => `${load}
const server = await tcp.listen("tcp://127.0.0.1:0");
(async () => {
  for await (const connection of server) {
    for await (const line of connection) await connection.send(line.toUpperCase());
    await connection.close();
  }
})();
const client = await tcp.connect(core.formatEndpoint(server.endpoint));
await client.send("hello");
for await (const reply of client) { console.log("tcp:", reply); break; }
await client.close();
await server.close();

const socket = await udp.bind("udp://127.0.0.1:0");
await socket.send(Buffer.from("ping"), socket.local);
for await (const datagram of socket) { console.log("udp:", datagram.data.toString()); break; }
await socket.close();

const reliable = await reliableUdp.listen("udp://127.0.0.1:0");
(async () => {
  for await (const connection of reliable) {
    for await (const message of connection) connection.write(message);
    await connection.close();
  }
})();
const ordered = await reliableUdp.connect(reliable.endpoint);
ordered.write("in order");
for await (const reply of ordered) { console.log("reliable-udp:", reply.toString()); break; }
await ordered.close();
await reliable.close();

const refused = await tcp.connect("tcp://127.0.0.1:1").catch((error) => error);
console.log("refused:", refused.code, core.isSocketError(refused), refused instanceof core.SocketError);
console.log("netsim:", typeof netsim.startLossyLink, core.formatSocketCall(core.socketAttributes({ domain: core.Domain.AF_INET, type: core.SocketType.SOCK_STREAM })));
`;

const EXPECTED = [
  "tcp: HELLO",
  "udp: ping",
  "reliable-udp: in order",
  "refused: ECONNREFUSED true true",
  "netsim: function socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)",
].join("\n");

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "socket-lab-consumers-"));
  const packs = join(work, "tarballs");
  mkdirSync(packs);
  for (const name of PACKAGES) {
    run("pnpm", ["pack", "--pack-destination", packs], join(ROOT, "packages", name));
  }
  tarballs = readdirSync(packs).map((file) => join(packs, file));
  esm = project("esm-consumer", { type: "module" });
  cjs = project("cjs-consumer", { type: "commonjs" });
}, COMMAND_MS * 4);

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe("the packed packages, installed with npm outside the workspace", () => {
  it("carry dist only, with ^0.1.0 ranges on core and no workspace condition", () => {
    expect(tarballs.map((file) => file.replace(/^.*\//, "")).sort()).toEqual(
      PACKAGES.map((name) => `socket-lab-${name}-0.1.0.tgz`).sort(),
    );
    const listing = run("tar", ["-tzf", tarballs.find((f) => f.includes("-tcp-")) ?? ""], work);
    expect(listing).toMatch(/package\/dist\/index\.cjs/);
    expect(listing).not.toMatch(/package\/src\//);
    const manifest = JSON.parse(
      run(
        "tar",
        ["-xzOf", tarballs.find((f) => f.includes("-tcp-")) ?? "", "package/package.json"],
        work,
      ),
    );
    expect(manifest.dependencies).toEqual({ "@socket-lab/core": "^0.1.0" });
    expect(JSON.stringify(manifest.exports)).not.toMatch(/@socket-lab\/source|src\//);
  });

  it.each(PACKAGES)(
    "%s: names its repository folder, is public, and its README has no link out of the package (dead on npm)",
    (name) => {
      const tarball = tarballs.find((f) => f.endsWith(`socket-lab-${name}-0.1.0.tgz`)) ?? "";
      const manifest = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"], work));
      expect(manifest.repository).toMatchObject({ type: "git", directory: `packages/${name}` });
      expect(manifest.repository.url).toMatch(/^git\+https:\/\//);
      expect(manifest.publishConfig?.access).toBe("public");
      const readme = run("tar", ["-xzOf", tarball, "package/README.md"], work);
      expect(readme.match(/\]\(\.\.\/[^)]*\)/g) ?? []).toEqual([]);
      expect(readme).toMatch(/@types\/node/);
    },
  );

  it(
    "run as an ES module",
    () => {
      const dir = esm;
      const load = PACKAGES.map(
        (name) => `import * as ${binding(name)} from "@socket-lab/${name}";`,
      ).join("\n");
      writeFileSync(join(dir, "main.mjs"), PROGRAM(load));
      expect(run(process.execPath, ["main.mjs"], dir).trim()).toBe(EXPECTED);
    },
    COMMAND_MS,
  );

  it(
    "run from CommonJS with require()",
    () => {
      const dir = cjs;
      const load = PACKAGES.map(
        (name) => `const ${binding(name)} = require("@socket-lab/${name}");`,
      ).join("\n");
      writeFileSync(join(dir, "main.cjs"), `(async () => {\n${PROGRAM(load)}\n})();\n`);
      expect(run(process.execPath, ["main.cjs"], dir).trim()).toBe(EXPECTED);
    },
    COMMAND_MS,
  );

  it(
    "type-check in strict TypeScript: nodenext as ESM and as CommonJS, and bundler",
    () => {
      const dir = esm;
      const source = `import * as core from "@socket-lab/core";
import { connect, lines, listen, type Connection } from "@socket-lab/tcp";
import { bind, type Datagram } from "@socket-lab/udp";
import { startLossyLink } from "@socket-lab/netsim";

export async function echo(): Promise<string> {
  const server = await listen("tcp://127.0.0.1:0", { framing: lines() });
  const client: Connection<string> = await connect(core.formatEndpoint(server.endpoint));
  await client.close();
  await server.close();
  const socket = await bind("udp://127.0.0.1:0");
  const first: Datagram | undefined = undefined;
  await socket.close();
  const error: unknown = new Error("x");
  if (core.isSocketError(error, core.ErrorCode.ERR_TIMEOUT)) return error.hint ?? "";
  return String(first) + typeof startLossyLink;
}
`;
      // skipLibCheck: how the programs resolve and use the packages' types is where a
      // module-format problem shows (arethetypeswrong checks the .d.ts files in `pnpm lint`);
      // checking all of @types/node three times took minutes on a busy machine.
      const configs: Record<string, Record<string, unknown>> = {
        "nodenext-esm": { module: "nodenext", moduleResolution: "nodenext", skipLibCheck: true },
        bundler: { module: "esnext", moduleResolution: "bundler", skipLibCheck: true },
      };
      for (const [name, options] of Object.entries(configs)) {
        writeFileSync(join(dir, `${name}.ts`), source);
        writeFileSync(
          join(dir, `tsconfig.${name}.json`),
          JSON.stringify({
            compilerOptions: {
              ...options,
              strict: true,
              noEmit: true,
              target: "es2022",
              types: ["node"],
              typeRoots: [TYPE_ROOTS],
            },
            files: [`${name}.ts`],
          }),
        );
        run(process.execPath, [TSC, "-p", `tsconfig.${name}.json`], dir);
      }

      // A CommonJS TypeScript project on module node16: TS1479 without a CommonJS build.
      writeFileSync(join(cjs, "main.ts"), source);
      writeFileSync(
        join(cjs, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            module: "node16",
            moduleResolution: "node16",
            strict: true,
            noEmit: true,
            target: "es2022",
            types: ["node"],
            typeRoots: [TYPE_ROOTS],
            skipLibCheck: true,
          },
          files: ["main.ts"],
        }),
      );
      run(process.execPath, [TSC, "-p", "tsconfig.json"], cjs);
    },
    3 * COMMAND_MS, // three type-checks; minutes each with the CPUs busy
  );
});
