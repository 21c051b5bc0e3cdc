import { defineConfig } from "vitest/config";

// Runs every package and app as one Vitest project each: `pnpm vitest run --project core`.
// `pnpm test` goes through turbo instead, so results are cached per package.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
    coverage: {
      provider: "v8",
      // With --project, Vitest looks for untested files from each project's root, so "src/**"
      // is what finds them there; "packages/*/src/**" finds them in a run of every project.
      include: ["packages/*/src/**", "src/**"],
      reporter: ["text-summary", "text"],
    },
  },
});
