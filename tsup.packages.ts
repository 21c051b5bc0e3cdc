import { defineConfig, type Options } from "tsup";

/**
 * The tsup config of every published package: ES module and CommonJS builds side by side
 * (`index.js` + `index.d.ts` for `import`, `index.cjs` + `index.d.cts` for `require()`), so
 * TypeScript projects on `module: node16` in CommonJS and Jest's default setup load them too.
 */
export function packageConfig(entry: string[]): Options | Options[] {
  return defineConfig({
    entry,
    format: ["esm", "cjs"],
    dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
    sourcemap: true,
    clean: true,
    target: "node20",
    removeNodeProtocol: false,
  }) as Options | Options[];
}
