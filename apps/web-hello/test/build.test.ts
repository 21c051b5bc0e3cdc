import { itBuildsSelfContained } from "@socket-lab/test-utils/self-contained";

itBuildsSelfContained(new URL("../dist/", import.meta.url));
