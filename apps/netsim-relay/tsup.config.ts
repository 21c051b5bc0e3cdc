import { appConfig } from "../../tsup.apps.js";

export default appConfig(["src/cli.ts"]);
