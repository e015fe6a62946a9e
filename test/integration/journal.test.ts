import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { journalModule } from "../../src/modules/journal/index.ts";
import { writingModule } from "../../src/modules/writing/index.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { startWorkers } from "../../src/runtime/workers.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { eventually } from "../support/eventually.ts";
import { client } from "../support/http.ts";
import { assertJournalSchema } from "../support/journal-schema.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";
import { registerUser } from "../support/writing-fixtures.ts";

const modules = [writingModule, journalModule];

/*
 * The journal on the Postgres server. Whether the server carries pgvector
 * is the operator's choice, so the test reads it from the server and holds
 * Strata to the matching promise: with it, vector features answer; without
 * it (a stock Postgres), Strata starts, everything else works, and vector
 * features answer 503 pgvector_not_installed while /ready says why.
 */
describe("journal module on the Postgres server", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let platform: Platform;
  let dispose: () => Promise<void>;
  let app: App;
  let stopWorkers: () => Promise<void>;
  let call: ReturnType<typeof client>;
  let token: string;
  let pgvector: boolean;

  before(async () => {
    scratch = await createScratchDatabase();
    const opened = await openTestPlatform({
      DATABASE_URL: scratch.url,
      STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
      REDIS_URL: services.redisUrl,
      KV_KEY_PREFIX: `test:${randomUUID()}:`,
    });
    platform = opened.platform;
    dispose = opened.dispose;
    await createMigrator(platform.database, modules).up();
    const available = await sql<{ n: number }>`
      select count(*)::int as n from pg_available_extensions where name = 'vector'`.execute(platform.database.db);
    pgvector = (available.rows[0]?.n ?? 0) > 0;
    app = await buildServer(platform, modules);
    stopWorkers = await startWorkers(platform, modules);
    call = client(app);
    ({ token } = await registerUser(call, "Pgjournaler"));
  });
  after(async () => {
    await stopWorkers?.();
    await app?.close();
    await dispose?.();
    await scratch?.drop();
  });

  it("holds seed 002's schema: its indexes, generated columns, checks, unique rules and cascades", async () => {
    const { id: userId } = await registerUser(call, "Schemer");
    await assertJournalSchema(platform.database.db, userId);
  });

  it("journals, analyzes and searches by words; vector features follow the server's pgvector", async () => {
    const created = await call("POST", "/v1/journal/entries", {
      token,
      body: { title: "Harbour walk", content: "A calm, happy walk along the harbour at sunset with friends." },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const entryId = created.body.id as string;
    const analyzed = await eventually(
      async () => (await call("GET", `/v1/journal/entries/${entryId}`, { token })).body,
      (entry) => entry.sentiment.length > 0 && entry.sentiment.every((s: { stale: boolean }) => !s.stale),
      30_000,
    );
    assert.equal(analyzed.sentiment[0].label, "positive");

    const fulltext = await call("GET", "/v1/journal/search?q=harbour&mode=fulltext", { token });
    assert.equal(fulltext.status, 200);
    assert.deepEqual(
      fulltext.body.items.map((i: { id: string }) => i.id),
      [entryId],
    );
    const hybrid = await call("GET", "/v1/journal/search?q=harbour", { token });
    assert.equal(hybrid.status, 200);
    assert.equal(hybrid.body.items[0]?.id, entryId);
    const everywhere = await call("GET", "/v1/search?q=harbour", { token });
    assert.equal(everywhere.status, 200);
    assert.equal(everywhere.body.items[0]?.id, entryId);

    const ready = await call("GET", "/ready");
    assert.equal(ready.status, 200, "a server without pgvector is still ready");
    const similar = await call("GET", `/v1/journal/entries/${entryId}/similar`, { token });
    if (pgvector) {
      assert.equal(ready.body.features.vectors.available, true);
      assert.equal(similar.status, 200);
      assert.equal(hybrid.body.vector, "used");
    } else {
      assert.equal(ready.body.features.vectors.available, false);
      assert.match(ready.body.features.vectors.reason, /pgvector/);
      assert.equal(similar.status, 503);
      assert.equal(similar.body.error.code, "pgvector_not_installed");
      assert.ok(Number(similar.headers["retry-after"]) > 0);
      assert.equal(hybrid.body.vector, "pgvector_not_installed");
      assert.equal(everywhere.body.vector, "pgvector_not_installed");
      // Nothing waits for an embedding that cannot happen.
      const outbox = await platform.database.db.selectFrom("embedding_outbox").selectAll().execute();
      assert.deepEqual(outbox, []);
    }
  });
});
