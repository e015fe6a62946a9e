import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkedValues } from "../../../test/support/check-constraints.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import { generationModule } from "./index.ts";
import { COMPONENT_TYPES, CONTEXT_STATUSES } from "./tables.ts";

/**
 * The closed sets beside the table types are what the row types and the
 * API's enums are made of; the migrations' CHECK constraints are what the
 * database accepts. They must be the same values.
 */
describe("the generation module's closed sets match the database's CHECK constraints", () => {
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  before(async () => {
    opened = await openTestPlatform();
    await createMigrator(opened.platform.database, [generationModule]).up();
  });
  after(() => opened.dispose());

  const sets: [table: string, column: string, values: readonly string[]][] = [
    ["generation_components", "type", COMPONENT_TYPES],
    ["generation_contexts", "status", CONTEXT_STATUSES],
    ["generation_batches", "status", CONTEXT_STATUSES],
  ];
  for (const [table, column, values] of sets) {
    it(`${table}.${column}`, async () => {
      assert.deepEqual(await checkedValues(opened.platform.database.db, table, column), [...values].sort());
    });
  }
});
