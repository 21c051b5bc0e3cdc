import { itRunsJsdocExamples } from "@socket-lab/test-utils/jsdoc-examples";

itRunsJsdocExamples(new URL("../src/", import.meta.url));
