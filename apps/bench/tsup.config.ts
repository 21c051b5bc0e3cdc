import { appConfig } from "../../tsup.apps.js";

// autocannon is a devDependency the web workload runs: bundled, its CommonJS breaks.
export default appConfig(["src/cli.ts", "src/worker.ts", "src/kernel-latency.ts"], {
  external: ["autocannon"],
});
