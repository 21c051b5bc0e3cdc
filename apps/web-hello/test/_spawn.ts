import { createPrograms } from "../../../test-utils/programs.js";

export type { Exit, Program, StartOptions } from "../../../test-utils/programs.js";
export { inOrder, WAIT_MS } from "../../../test-utils/programs.js";
export const { start, run, startServer, interrupt, stopAll } = createPrograms(
  new URL("../dist/", import.meta.url),
);
