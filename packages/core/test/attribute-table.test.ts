import { formatAttributeTable } from "@socket-lab/core";
import { expect, test, vi } from "vitest";

test("the attribute-table script prints the table and a newline to stdout", async () => {
  const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    await import("../src/attribute-table.js");
    expect(write).toHaveBeenCalledExactlyOnceWith(`${formatAttributeTable()}\n`);
  } finally {
    write.mockRestore();
  }
});
