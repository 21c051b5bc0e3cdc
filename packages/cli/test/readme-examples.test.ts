import { itRunsReadmeExamples } from "@socket-lab/test-utils/readme-examples";

itRunsReadmeExamples(new URL("../README.md", import.meta.url));
