/**
 * The story files read top to bottom (DESIGN.md, issue 18): the first socket call within 40
 * lines of the header comment and the imports, and at most 120 lines in all.
 */

import { fileURLToPath } from "node:url";
import { storyFileFacts } from "@socket-lab/test-utils/story-file";
import { describe, expect, test } from "vitest";

describe("udp-echo's story files", () => {
  test.each(["server.ts", "client.ts"])(
    "%s starts with its socket calls and stays short",
    (name) => {
      const facts = storyFileFacts(fileURLToPath(new URL(`../src/${name}`, import.meta.url)));
      expect(facts.firstSocketCallLine).toBeDefined();
      expect(facts.firstSocketCallLine).toBeLessThanOrEqual(40);
      expect(facts.lines).toBeLessThanOrEqual(120);
    },
  );
});
