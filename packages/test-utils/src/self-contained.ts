/**
 * Shared by the apps' tests: an app's built programs carry the workspace packages inside them,
 * so `cd apps/<app> && pnpm build && pnpm vitest run` works on a clean clone, with no package
 * built first (the packages' own dist/ folders are not there yet).
 */

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/** What an import of a workspace package looks like in built JavaScript. */
const WORKSPACE_IMPORT = /(?:from\s*|import\s*\(?\s*)["']@socket-lab\/[^"']+["']/;

/** Adds a test: no file of the app's `dist/` imports an `@socket-lab/*` package at run time. */
export function itBuildsSelfContained(distUrl: URL): void {
  it("builds programs that carry the workspace packages inside (no @socket-lab/* import left)", () => {
    const dist = fileURLToPath(distUrl);
    const files = readdirSync(dist).filter((name) => name.endsWith(".js"));
    expect(files.length).toBeGreaterThan(0);
    const importing = files.filter((name) =>
      WORKSPACE_IMPORT.test(readFileSync(`${dist}${name}`, "utf8")),
    );
    expect(importing).toEqual([]);
  });
}
