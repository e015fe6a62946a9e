import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type Kysely, sql } from "kysely";
import { writingModule } from "../../src/modules/writing/index.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { WRITING_APP_ORIGIN, writingContract } from "../contract/writing.contract.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { startS3Server } from "../support/s3.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";

async function serverPlatform(extra: Record<string, string> = {}) {
  const scratch = await createScratchDatabase();
  const s3 = await startS3Server();
  const opened = await openTestPlatform({
    DATABASE_URL: scratch.url,
    STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
    REDIS_URL: services.redisUrl,
    KV_KEY_PREFIX: `test:${randomUUID()}:`,
    BODY_LIMIT_BYTES: String(8 * 1024 * 1024),
    ...s3.env,
    ...extra,
  });
  return {
    platform: opened.platform,
    async fetchSigned(url: string) {
      const res = await fetch(url);
      return { status: res.status, text: await res.text() };
    },
    async dispose() {
      await opened.dispose();
      await s3.stop();
      await scratch.drop();
    },
  };
}

writingContract("server (Postgres, Redis, S3 protocol)", (aiBaseUrl) =>
  serverPlatform({ AI_BASE_URL: aiBaseUrl, AI_MODEL: "test-model", CORS_ORIGINS: WRITING_APP_ORIGIN }),
);

describe("writing module: indexes on the Postgres server", () => {
  let harness: Awaited<ReturnType<typeof serverPlatform>>;
  let platform: Platform;
  let db: Kysely<any>;
  before(async () => {
    harness = await serverPlatform();
    platform = harness.platform;
    db = platform.database.db as Kysely<any>;
    await createMigrator(platform.database, [writingModule]).up();
  });
  after(async () => {
    await harness?.dispose();
  });

  it("has every index of seed 000's Indexing Strategy table", async () => {
    const { rows } = await sql<{ indexname: string; indexdef: string }>`
      select indexname, indexdef from pg_indexes where schemaname = 'public'`.execute(db);
    const defs = rows.map((r) => r.indexdef);
    const expect = [
      /UNIQUE INDEX users_email_key ON public.users USING btree \(lower\(email\)\)/,
      /INDEX users_status_idx ON public.users USING btree \(status\)/,
      /INDEX documents_user_id_idx ON public.documents USING btree \(user_id\)/,
      /INDEX documents_tags_idx ON public.documents USING gin \(tags\)/,
      /INDEX documents_user_id_is_archived_idx ON public.documents USING btree \(user_id, is_archived/,
      /INDEX document_versions_document_id_idx ON public.document_versions USING btree \(document_id\)/,
      /UNIQUE INDEX document_versions_document_id_version_number_idx ON public.document_versions USING btree \(document_id, version_number\)/,
      /INDEX ai_interactions_session_id_idx ON public.ai_interactions USING btree \(anonymous_session_id\)/,
      /INDEX ai_interactions_document_id_timestamp_idx ON public.ai_interactions USING btree \(document_id, "timestamp"\)/,
      /INDEX prompt_templates_category_idx ON public.prompt_templates USING btree \(category\)/,
    ];
    for (const pattern of expect)
      assert.ok(
        defs.some((d) => pattern.test(d)),
        `missing ${pattern}`,
      );
  });

  it("serves the hot queries from those indexes (EXPLAIN)", async () => {
    const owner = randomUUID();
    // Enough rows that the planner prefers indexes without being told.
    await sql`insert into users (id, email, password_hash, name, personal_organization_id)
      values (${owner}, ${`${owner}@example.com`}, 'x', 'Owner', '00000000-0000-7000-8000-000000000000')`.execute(db);
    await sql`
      insert into documents (user_id, organization_id, title, tags, content_key, is_archived, updated_at)
      select case when g % 50 = 0 then ${owner}::uuid else (select id from users where id = ${owner}) end,
             '00000000-0000-7000-8000-000000000000', 'Doc ' || g, array['tag' || (g % 100)],
             'documents/x/' || g, g % 3 = 0, now() - (g || ' minutes')::interval
      from generate_series(1, 200) g`.execute(db);
    await sql`
      insert into users (id, email, password_hash, name, personal_organization_id)
      select gen_random_uuid(), 'bulk' || g || '@example.com', 'x', 'Bulk', '00000000-0000-7000-8000-000000000000'
      from generate_series(1, 20000) g`.execute(db);
    await sql`
      insert into documents (user_id, organization_id, title, tags, content_key)
      select u.id, '00000000-0000-7000-8000-000000000000', 'Other ' || u.email, array['t' || (random() * 500)::int],
             'documents/y/' || u.id
      from users u where u.email like 'bulk%'`.execute(db);
    await sql`
      insert into document_search (document_id, organization_id, search_text, text_sha256, search_vector)
      select id, organization_id, 'other words ' || title, '', to_tsvector('english', 'other words ' || title)
      from documents`.execute(db);
    await sql`
      insert into document_versions (id, document_id, organization_id, version_number, kind, storage, blob_key,
        stored_size, content_size, content_sha256)
      select gen_random_uuid(), d.id, d.organization_id, v, 'major', 'snapshot', 'versions/' || d.id || '/' || v, 1, 1, 'x'
      from documents d, generate_series(1, 3) v`.execute(db);
    await sql`analyze`.execute(db);
    const plan = async (query: ReturnType<typeof sql>) =>
      (await sql<{ "QUERY PLAN": string }>`explain ${query}`.execute(db)).rows.map((r) => r["QUERY PLAN"]).join("\n");

    const active = await plan(
      sql`select id from documents where user_id = ${owner} and is_archived = false and deleted_at is null order by updated_at desc, id desc limit 51`,
    );
    assert.match(active, /documents_user_id_is_archived_idx|documents_user_id_idx/, active);
    const tagged = await plan(sql`select id from documents where tags @> array['t7']::text[]`);
    assert.match(tagged, /documents_tags_idx/, tagged);
    const search = await plan(
      sql`select d.id from documents d join document_search s on s.document_id = d.id
        where s.search_vector @@ websearch_to_tsquery('english', 'other') and d.user_id = ${owner}`,
    );
    assert.match(search, /documents_user_id|document_search_vector_idx/, search);
    const email = await plan(sql`select id from users where lower(email) = 'bulk7@example.com'`);
    assert.match(email, /users_email_key/, email);
    const versions = await plan(
      sql`select id from document_versions where document_id = ${randomUUID()} and version_number = 3`,
    );
    assert.match(
      versions,
      /document_versions_document_id_version_number_idx|document_versions_document_id_idx/,
      versions,
    );
  });
});
