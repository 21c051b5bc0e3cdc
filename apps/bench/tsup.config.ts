import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts", "src/worker.ts"],
  format: ["esm"],
  sourcemap: true,
  clean: true,
  target: "node20",
  removeNodeProtocol: false,
});
