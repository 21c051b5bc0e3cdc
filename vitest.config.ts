import { defineConfig } from "vitest/config";

// Runs every package and app as one Vitest project each: `pnpm vitest run --project core`.
// `pnpm test` goes through turbo instead, so results are cached per package.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*"],
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**"],
      reporter: ["text-summary", "text"],
    },
  },
});
