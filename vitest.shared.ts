import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through the "@socket-lab/source"
// export condition, so tests never need a build. Vite replaces its default conditions when
// this list is set, so they are listed again after ours.
const conditions = ["@socket-lab/source", "module", "node", "development|production"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // The JSON report is what .ci/run counts; the default reporter is for people.
    reporters: ["default", "json"],
    outputFile: { json: ".vitest/report.json" },
  },
});
