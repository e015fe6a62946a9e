import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkedValues } from "../../../test/support/check-constraints.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import { writingModule } from "./index.ts";
import { OBJECT_KINDS } from "./object-codec.ts";
import { SUGGESTION_STATES, VERSION_KINDS, VERSION_STORAGES } from "./tables.ts";

/**
 * The closed sets beside the table types are what the row types and the
 * API's enums are made of; the migrations' CHECK constraints (as the latest
 * migration leaves them) are what the database accepts. They must be the
 * same values.
 */
describe("the writing module's closed sets match the database's CHECK constraints", () => {
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  before(async () => {
    opened = await openTestPlatform();
    await createMigrator(opened.platform.database, [writingModule]).up();
  });
  after(() => opened.dispose());

  const sets: [table: string, column: string, values: readonly string[]][] = [
    ["document_versions", "kind", VERSION_KINDS],
    ["document_versions", "storage", VERSION_STORAGES],
    ["document_versions", "suggestion_state", SUGGESTION_STATES],
    ["ai_interactions", "status", SUGGESTION_STATES],
    ["document_objects", "kind", OBJECT_KINDS],
  ];
  for (const [table, column, values] of sets) {
    it(`${table}.${column}`, async () => {
      assert.deepEqual(await checkedValues(opened.platform.database.db, table, column), [...values].sort());
    });
  }
});
