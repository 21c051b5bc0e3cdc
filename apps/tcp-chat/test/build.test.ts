import { itBuildsSelfContained } from "../../../test-utils/self-contained.js";

itBuildsSelfContained(new URL("../dist/", import.meta.url));
