import { appConfig } from "../../tsup.apps.js";

// src/index.ts is what the bench's web workload imports (with its types).
export default appConfig(["src/server-cli.ts", "src/index.ts"], {
  dts: { entry: "src/index.ts", compilerOptions: { ignoreDeprecations: "6.0" } },
});
