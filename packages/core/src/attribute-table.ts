/**
 * Prints the table of socket attribute combinations: `node dist/attribute-table.js`.
 */

import { formatAttributeTable } from "./attributes.js";

process.stdout.write(`${formatAttributeTable()}\n`);
