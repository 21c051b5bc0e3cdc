// Checks that a built package loads in plain Node both ways, `import` (the ES module build) and
// `require()` (the CommonJS build), with the same names. Run from a package folder after its build:
// `node ../../scripts/check-load.mjs`. Every subpath of "exports" must give the same names.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const manifestPath = join(process.cwd(), "package.json");
const { name, exports } = JSON.parse(readFileSync(manifestPath, "utf8"));
const require = createRequire(manifestPath);
let failed = false;

for (const subpath of Object.keys(exports ?? {})) {
  if (subpath.endsWith(".json")) continue;
  const specifier = subpath === "." ? name : `${name}${subpath.slice(1)}`;
  try {
    const required = Object.keys(require(specifier)).sort();
    // The file "exports" gives an importer (a script outside the package cannot import it by name).
    const file = join(process.cwd(), exports[subpath].import.default);
    const imported = Object.keys(await import(pathToFileURL(file).href)).sort();
    if (required.length === 0 || required.join() !== imported.join()) {
      throw new Error(`require() gave [${required}], import gave [${imported}]`);
    }
    console.log(`${specifier}: ${required.length} exports load with import and require()`);
  } catch (error) {
    failed = true;
    console.error(`${specifier}: ${error instanceof Error ? error.message : error}`);
  }
}
process.exitCode = failed ? 1 : 0;
