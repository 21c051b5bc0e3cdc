import { createPrograms } from "@socket-lab/test-utils/programs";

export type { Exit, Program } from "@socket-lab/test-utils/programs";
export { WAIT_MS } from "@socket-lab/test-utils/programs";
export const { start, run, interrupt, stopAll } = createPrograms(
  new URL("../dist/", import.meta.url),
);
