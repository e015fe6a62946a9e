import assert from "node:assert/strict";
import { type Kysely, sql } from "kysely";
import { sqlState } from "../../src/platform/database/sqlstate.ts";

/** Seed 002's Indexing Strategy, by name, with the access method each must use. */
export const SEED_002_INDEXES: Record<string, "btree" | "gin"> = {
  idx_journal_entries_user_date: "btree",
  idx_journal_entries_created: "btree",
  idx_sentiment_analysis_entry: "btree",
  idx_journal_entries_content_gin: "gin",
  idx_journal_entries_title_gin: "gin",
  idx_journal_entries_content_trgm: "gin",
  idx_topics_name_trgm: "gin",
  idx_sentiment_emotions_gin: "gin",
  idx_psychology_insights_data: "gin",
  idx_entry_topics_composite: "btree",
  idx_psychology_insights_user: "btree",
  idx_psychology_insights_type: "btree",
};

/** The SQLSTATE a statement fails with (null when it succeeds). */
async function failure(run: () => Promise<unknown>): Promise<string | null> {
  try {
    await run();
    return null;
  } catch (error) {
    return sqlState(error) ?? String(error);
  }
}

/**
 * Seed 002's schema as the database holds it, on whichever profile `db`
 * is: the indexes, the generated columns, the checks, the unique rules and
 * the cascades, writing as `userId` (a registered user) in their own
 * organization.
 */
export async function assertJournalSchema(db: Kysely<any>, userId: string) {
  const { personal_organization_id: organizationId } = await db
    .selectFrom("users")
    .select("personal_organization_id")
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  const owner = { userId, organizationId };
  const { rows: indexes } = await sql<{ indexname: string; indexdef: string }>`
    select indexname, indexdef from pg_indexes where schemaname = current_schema()`.execute(db);
  const byName = new Map(indexes.map((i) => [i.indexname, i.indexdef]));
  for (const [name, method] of Object.entries(SEED_002_INDEXES)) {
    const definition = byName.get(name);
    assert.ok(definition, `index ${name} exists`);
    assert.match(definition, new RegExp(`USING ${method} `, "i"), `${name} is ${method}`);
  }

  const entry = (values: Record<string, unknown>) =>
    db
      .insertInto("journal_entries")
      .values({
        user_id: owner.userId,
        organization_id: owner.organizationId,
        entry_date: "2026-11-01",
        content: "x",
        ...values,
      })
      .returning(["id", "word_count"])
      .executeTakeFirstOrThrow();

  // Generated: words on any run of white space; the vector weighs the title A and the content B.
  const written = await entry({ title: "Marathon", content: "  one  two\nthree  " });
  assert.equal(written.word_count, 3);
  const weighted = await sql<{ a: boolean; b: boolean }>`
    select content_vector @@ to_tsquery('english', 'marathon:A') as a, content_vector @@ to_tsquery('english', 'two:B') as b
    from journal_entries where id = ${written.id}`.execute(db);
  assert.deepEqual(weighted.rows[0], { a: true, b: true });

  // Checks: mood within -1..1, content not empty or blank, confidence within 0..1.
  assert.equal(await failure(() => entry({ mood_score: 1.5, mood_origin: "user" })), "23514");
  assert.equal(await failure(() => entry({ mood_score: -1.01, mood_origin: "user" })), "23514");
  assert.equal(await failure(() => entry({ content: "   " })), "23514");
  assert.equal(await failure(() => entry({ mood_score: -1, mood_origin: "user" })), null);
  const sentiment = (model: string, confidence: number) =>
    db
      .insertInto("sentiment_analysis")
      .values({
        entry_id: written.id,
        model_name: model,
        sentiment_label: "neutral",
        confidence_score: confidence,
        compound_score: 0,
        emotions: JSON.stringify({ joy: 0.1 }),
        text_sha256: "0".repeat(64),
      })
      .execute();
  assert.equal(await failure(() => sentiment("vader", 1.2)), "23514");
  assert.equal(await failure(() => sentiment("vader", 0.9)), null);
  // Unique per entry and model: a second model adds a row, the same model again is refused.
  assert.equal(await failure(() => sentiment("vader", 0.5)), "23505");
  assert.equal(await failure(() => sentiment("llm", 0.5)), null);

  // Topics are unique per user (in any case); the same name is another user's to have too.
  const topic = (name: string) =>
    db.insertInto("topics").values({ name, user_id: owner.userId }).returning("id").executeTakeFirstOrThrow();
  const running = await topic("Running");
  assert.equal(await failure(() => topic("running")), "23505");
  await db.insertInto("entry_topics").values({ entry_id: written.id, topic_id: running.id }).execute();
  await db
    .insertInto("psychology_insights")
    .values({ user_id: owner.userId, insight_type: "streaks", insight_data: JSON.stringify({ longest: 3 }) })
    .execute();

  // Cascades: an entry takes its analyses and topic links; a topic its links.
  const count = async (table: string, where: string, value: string) =>
    Number(
      (
        await sql<{
          n: string;
        }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(where)} = ${value}`.execute(db)
      ).rows[0]?.n,
    );
  const second = await entry({ content: "another entry" });
  await db.insertInto("entry_topics").values({ entry_id: second.id, topic_id: running.id }).execute();
  await db.deleteFrom("journal_entries").where("id", "=", written.id).execute();
  assert.equal(await count("sentiment_analysis", "entry_id", written.id), 0);
  assert.equal(await count("entry_topics", "entry_id", written.id), 0);
  await db.deleteFrom("topics").where("id", "=", running.id).execute();
  assert.equal(await count("entry_topics", "entry_id", second.id), 0);
  assert.equal(await count("journal_entries", "id", second.id), 1, "a topic's deletion leaves its entries");
}
