import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts", "src/worker.ts"],
  format: ["esm"],
  sourcemap: true,
  clean: true,
  target: "node20",
  // A devDependency run by the web workload: tsup would bundle it, and its CommonJS with it.
  external: ["autocannon"],
  removeNodeProtocol: false,
});
