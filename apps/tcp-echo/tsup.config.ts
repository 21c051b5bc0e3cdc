import { appConfig } from "../../tsup.apps.js";

export default appConfig([
  "src/server-cli.ts",
  "src/client-cli.ts",
  "src/tutorial-server.ts",
  "src/tutorial-client.ts",
]);
