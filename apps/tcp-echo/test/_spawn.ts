import { createPrograms } from "@socket-lab/test-utils/programs";

export type { Exit, Program, StartOptions } from "@socket-lab/test-utils/programs";
export { inOrder, WAIT_MS, within } from "@socket-lab/test-utils/programs";
export const { start, run, startServer, interrupt, stopAll } = createPrograms(
  new URL("../dist/", import.meta.url),
);
