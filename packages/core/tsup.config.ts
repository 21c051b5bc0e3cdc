import { packageConfig } from "../../tsup.packages.js";

export default packageConfig(["src/index.ts", "src/attribute-table.ts", "src/internal/index.ts"]);
