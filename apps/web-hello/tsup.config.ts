import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/server-cli.ts", "src/index.ts"],
  format: ["esm"],
  sourcemap: true,
  clean: true,
  target: "node20",
  dts: { entry: "src/index.ts", compilerOptions: { ignoreDeprecations: "6.0" } },
  removeNodeProtocol: false,
});
