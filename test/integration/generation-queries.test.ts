import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type Kysely, sql } from "kysely";
import { generationModule } from "../../src/modules/generation/index.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { TEST_SIGNING_SECRET } from "../support/services.ts";

/**
 * The generation API's hot reads on the Postgres server, with enough rows
 * that the planner picks indexes unprompted: the seed's Batch Status
 * aggregation, a pipeline's counts by status and the User Context History
 * each read the index made for them.
 */
describe("generation module: the API's queries on the Postgres server", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  let db: Kysely<any>;
  before(async () => {
    scratch = await createScratchDatabase();
    opened = await openTestPlatform({ DATABASE_URL: scratch.url, STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET });
    await createMigrator(opened.platform.database, [generationModule]).up();
    db = opened.platform.database.db as Kysely<any>;
  });
  after(async () => {
    await opened?.dispose();
    await scratch?.drop();
  });

  it("reads the batch, pipeline and user indexes", async () => {
    const signedIn = await opened.platform.identity.register(
      { email: `plan-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple" },
      null,
      { ipAddress: null, userAgent: null },
    );
    const org = signedIn.organizationId;
    const user = signedIn.user.id;
    const pipelines = Array.from({ length: 20 }, () => randomUUID());
    for (const id of pipelines) {
      await sql`insert into generation_pipelines (id, organization_id, name) values (${id}, ${org}, 'P')`.execute(db);
    }
    await sql`
      insert into generation_batches (id, organization_id, user_id, pipeline_id, name, context_count)
      select gen_random_uuid(), ${org}, ${user}, (${sql.val(pipelines)}::uuid[])[1 + g % 20], 'B', 50
      from generate_series(1, 400) g`.execute(db);
    await sql`
      insert into generation_contexts (id, organization_id, user_id, batch_id, pipeline_id, type, status, created_at)
      select gen_random_uuid(), ${org}, ${user}, b.id, b.pipeline_id, 'article',
             (array['pending', 'processing', 'completed', 'failed', 'cancelled'])[1 + g % 5],
             now() - (g || ' seconds')::interval
      from generation_batches b, generate_series(1, 50) g`.execute(db);
    await sql`analyze`.execute(db);
    const plan = async (query: ReturnType<typeof sql>) =>
      (await sql<{ "QUERY PLAN": string }>`explain ${query}`.execute(db)).rows.map((r) => r["QUERY PLAN"]).join("\n");
    const batch = (await sql<{ id: string }>`select id from generation_batches limit 1`.execute(db)).rows[0]?.id;

    const summary = await plan(sql`
      select status, count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0)
      from generation_contexts where batch_id = ${batch} group by status`);
    assert.match(summary, /generation_contexts_batch_id_idx/, summary);
    const byPipeline = await plan(
      sql`select status, count(*) from generation_contexts where pipeline_id = ${pipelines[0]} group by status`,
    );
    assert.match(byPipeline, /generation_contexts_pipeline_id_idx/, byPipeline);
    const history = await plan(sql`
      select * from generation_contexts where user_id = ${user} and organization_id = ${org}
      order by created_at desc, id desc limit 21`);
    assert.match(history, /generation_contexts_user_id_idx/, history);
  });
});
