import { describeStoryFiles } from "@socket-lab/test-utils/story-file";

// DESIGN.md: a story file starts with the socket calls and is short enough to read top to
// bottom like the tutorial.
describeStoryFiles([
  new URL("../src/server.ts", import.meta.url),
  new URL("../src/client.ts", import.meta.url),
  new URL("../src/tutorial-server.ts", import.meta.url),
  new URL("../src/tutorial-client.ts", import.meta.url),
]);
