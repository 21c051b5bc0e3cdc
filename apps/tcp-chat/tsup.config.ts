import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/server-cli.ts", "src/client-cli.ts"],
  format: ["esm"],
  sourcemap: true,
  clean: true,
  target: "node20",
  removeNodeProtocol: false,
});
