import { packageConfig } from "../../tsup.packages.js";

export default packageConfig(["src/index.ts"]);
