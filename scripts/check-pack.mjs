// Lints a package as it is published: packs it with pnpm (which applies publishConfig), then
// runs publint and arethetypeswrong on the tarball. Run from a package folder after its build:
// `node ../../scripts/check-pack.mjs`. The node16 profile: moduleResolution "node10" cannot
// see the ./internal subpath of core (it predates "exports"); its root entry works through "main".
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const out = mkdtempSync(join(tmpdir(), "socket-lab-pack-"));
try {
  execFileSync("pnpm", ["pack", "--pack-destination", out], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const [tarball] = readdirSync(out).filter((name) => name.endsWith(".tgz"));
  if (tarball === undefined) throw new Error("pnpm pack made no tarball");
  const file = join(out, tarball);
  execFileSync("pnpm", ["exec", "publint", "run", file, "--strict"], { stdio: "inherit" });
  execFileSync("pnpm", ["exec", "attw", file, "--profile", "node16", "--no-emoji", "--no-color"], {
    stdio: "inherit",
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
