import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { documentGenerationKey, documentGenerations } from "../../src/modules/writing/document-generations.ts";
import { readOwnedDocument } from "../../src/modules/writing/document-read.ts";
import { writingModule } from "../../src/modules/writing/index.ts";
import { runWritingMaintenance } from "../../src/modules/writing/maintenance.ts";
import { generationKey } from "../../src/platform/cache/generations.ts";
import type { Principal } from "../../src/platform/identity/principal.ts";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import { wireModules } from "../../src/runtime/module-wiring.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { generationsContract } from "../contract/generations.contract.ts";
import { startChatCompletionsServer } from "../support/chat-completions-server.ts";
import { serverTime } from "../support/clock.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { client } from "../support/http.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { startS3Server } from "../support/s3.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";
import { createDraft, registerUser, statementsSent } from "../support/writing-fixtures.ts";

// Marks lapse by Redis's clock (TIME): the contract waits for it.
generationsContract(
  "redis",
  async () => {
    const prefix = `test:${randomUUID()}:`;
    return {
      a: await RedisKvStore.connect(services.redisUrl, prefix),
      b: await RedisKvStore.connect(services.redisUrl, prefix),
    };
  },
  serverTime,
);

/**
 * Two API processes of one server deployment (one Postgres, one Redis, one
 * S3-protocol store, nothing else shared): the second serves warm document reads from its own
 * memory, yet every write acknowledged by the first is seen by the second's
 * very next read (document-generations.ts).
 */
describe("document reads across two server processes", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let s3: Awaited<ReturnType<typeof startS3Server>>;
  let env: Record<string, string>;
  const opened: Awaited<ReturnType<typeof openTestPlatform>>[] = [];
  const apps: App[] = [];
  let writer: Platform;
  let reader: Platform;
  /** Process A: where the writes happen. */
  let a: ReturnType<typeof client>;
  /** Process B: where the reads happen. */
  let b: ReturnType<typeof client>;
  const password = "correct horse battery staple";

  async function openProcess() {
    const o = await openTestPlatform(env);
    opened.push(o);
    wireModules(o.platform, [writingModule]);
    const app = await buildServer(o.platform, [writingModule]);
    apps.push(app);
    return { platform: o.platform, call: client(app) };
  }

  before(async () => {
    ai = await startChatCompletionsServer();
    scratch = await createScratchDatabase();
    s3 = await startS3Server();
    env = {
      ...s3.env,
      DATABASE_URL: scratch.url,
      STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
      REDIS_URL: services.redisUrl,
      KV_KEY_PREFIX: `test:${randomUUID()}:`,
      AI_BASE_URL: ai.baseUrl,
      AI_MODEL: "test-model",
    };
    const first = await openTestPlatform(env);
    opened.push(first);
    await createMigrator(first.platform.database, [writingModule]).up();
    wireModules(first.platform, [writingModule]);
    const firstApp = await buildServer(first.platform, [writingModule]);
    apps.push(firstApp);
    writer = first.platform;
    a = client(firstApp);
    ({ platform: reader, call: b } = await openProcess());
  });
  after(async () => {
    for (const app of apps) await app.close();
    for (const o of opened) await o.dispose();
    await scratch?.drop();
    await s3?.stop();
    await ai?.stop();
  });

  const user = () => registerUser(a, "Reader");
  const newDoc = (token: string, content?: string) => createDraft(a, token, content);
  const statements = statementsSent;
  /** Reads on B until a read is served from B's memory, so whatever follows must move the generation. */
  async function warm(token: string, id: string) {
    assert.equal((await b("GET", `/v1/documents/${id}`, { token })).status, 200);
    const before = await statements(reader);
    const res = await b("GET", `/v1/documents/${id}`, { token });
    assert.equal(res.status, 200);
    assert.equal((await statements(reader)) - before, 0, "the warm read asked Postgres nothing");
    return res;
  }
  const read = (token: string, id: string) => b("GET", `/v1/documents/${id}`, { token });
  /** The generation B's admission would bring for `id`. */
  async function generationOf(platform: Platform, id: string) {
    const key = documentGenerationKey(platform, id);
    assert.ok(key);
    const admission = await platform.rateLimiter.admit([], [], key);
    assert.equal(admission.blocked, false);
    return admission.blocked ? 0 : admission.generation;
  }

  it("serves a warm read from memory: one key-value command, no statement, the same body", async () => {
    const me = await user();
    const id = await newDoc(me.token, "x".repeat(4096));
    const first = await warm(me.token, id);
    const kvCalls = async () =>
      (await reader.metrics.dependencyCalls.get()).values
        .filter((v) => v.labels.dependency === "kv" && v.metricName?.endsWith("_count"))
        .reduce((n, v) => n + v.value, 0);
    const kvBefore = await kvCalls();
    const dbBefore = await statements(reader);
    const again = await read(me.token, id);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.body.content.length, 4096);
    assert.equal((await kvCalls()) - kvBefore, 1, "the admission round trip, which brought the generation");
    assert.equal((await statements(reader)) - dbBefore, 0);
  });

  it("shows every write acknowledged by one process to the other's very next read", async () => {
    const me = await user();
    const id = await newDoc(me.token, "first");
    const patch = (body: object) => a("PATCH", `/v1/documents/${id}`, { token: me.token, body });

    await warm(me.token, id);
    assert.equal((await patch({ title: "Renamed" })).status, 200);
    assert.equal((await read(me.token, id)).body.title, "Renamed");

    await warm(me.token, id);
    await patch({ description: "about it", tags: ["a", "b"] });
    const described = await read(me.token, id);
    assert.equal(described.body.description, "about it");
    assert.deepEqual(described.body.tags, ["a", "b"]);

    await warm(me.token, id);
    await patch({ isArchived: true });
    assert.equal((await read(me.token, id)).body.isArchived, true);
    await patch({ isArchived: false });

    await warm(me.token, id);
    const saved = await a("POST", `/v1/documents/${id}/versions`, { token: me.token, body: { content: "second" } });
    assert.equal(saved.status, 201);
    const afterSave = await read(me.token, id);
    assert.equal(afterSave.body.content, "second");
    assert.equal(afterSave.body.currentVersion.number, 2);

    await warm(me.token, id);
    const restored = await a("POST", `/v1/documents/${id}/versions/1/restore`, { token: me.token });
    assert.equal(restored.status, 201, JSON.stringify(restored.body));
    assert.equal((await read(me.token, id)).body.content, "first");

    await warm(me.token, id);
    const suggestion = await a("POST", `/v1/documents/${id}/suggestions`, {
      token: me.token,
      body: { prompt: "Capitalize sentences." },
    });
    assert.equal(suggestion.status, 201);
    const suggested = await read(me.token, id);
    assert.equal(suggested.body.content, "first", "a suggestion is not the current version");
    assert.equal(suggested.body.history.versions, 4, "but it is in the history the read reports");

    await warm(me.token, id);
    assert.equal((await a("POST", `/v1/suggestions/${suggestion.body.id}/accept`, { token: me.token })).status, 200);
    const accepted = await read(me.token, id);
    assert.equal(accepted.body.content, "First");
    assert.equal(accepted.body.currentVersion.number, 5);
  });

  it("answers 404 on the other process right after a delete, and 200 again after the restore", async () => {
    const me = await user();
    const id = await newDoc(me.token, "to be deleted");
    await warm(me.token, id);
    assert.equal((await a("DELETE", `/v1/documents/${id}`, { token: me.token })).status, 204);
    const gone = await read(me.token, id);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, "document_not_found");
    assert.equal((await read(me.token, id)).status, 404, "and stays gone once the deleted row is cached");
    assert.equal((await a("POST", `/v1/documents/${id}/restore`, { token: me.token })).status, 200);
    assert.equal((await read(me.token, id)).body.content, "to be deleted");
  });

  it("reads its own write on the other process, write after write", async () => {
    const me = await user();
    const id = await newDoc(me.token);
    await warm(me.token, id);
    for (let i = 0; i < 25; i++) {
      // Reads in flight on B while A writes: they may answer either title, but must not keep the old one.
      const racing = Promise.all([read(me.token, id), read(me.token, id)]);
      const written = await a("PATCH", `/v1/documents/${id}`, { token: me.token, body: { title: `Title ${i}` } });
      assert.equal(written.status, 200);
      const [seen, again] = await Promise.all([read(me.token, id), read(me.token, id)]);
      assert.equal(seen.body.title, `Title ${i}`);
      assert.equal(again.body.title, `Title ${i}`);
      for (const r of await racing)
        assert.ok([`Title ${i}`, i === 0 ? "Draft" : `Title ${i - 1}`].includes(r.body.title));
    }
  });

  it("never serves a row loaded before a write that committed while the load was in flight", async () => {
    const me = await user();
    const id = await newDoc(me.token);
    const rows = documentGenerations(reader)?.rows;
    assert.ok(rows);
    // B learns the generation and loads the row, which comes back before A
    // writes; the load stores only after A's write has been acknowledged.
    const generation = await generationOf(reader, id);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const loading = rows.getOrLoad(id, generation, async () => {
      const row = await reader.database.db.selectFrom("documents").selectAll().where("id", "=", id).executeTakeFirst();
      await held;
      return Object.freeze(row as never);
    });
    assert.equal((await a("PATCH", `/v1/documents/${id}`, { token: me.token, body: { title: "Later" } })).status, 200);
    release();
    assert.equal(((await loading) as { title: string }).title, "Draft", "the racing load answers what it read");
    assert.ok(rows.get(id, generation), "and stored it under the generation it began with");
    assert.equal((await read(me.token, id)).body.title, "Later", "which is no longer current");
  });

  it("holds every request to the cached row's owner, tenant and deletion", async () => {
    const me = await user();
    const other = await user();
    const anon = (await a("POST", "/v1/auth/anonymous")).body.accessToken as string;
    const id = await newDoc(me.token);
    await warm(me.token, id);
    for (const token of [other.token, anon]) {
      const res = await read(token, id);
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, "document_not_found");
    }
    const key = await a("POST", "/v1/api-keys", { token: me.token, body: { name: "reader", scopes: ["read"] } });
    assert.equal(key.status, 201);
    assert.equal((await read(key.body.key, id)).status, 200, "the owner's key, in the document's organization");
    const generation = await generationOf(reader, id);
    const row = documentGenerations(reader)?.rows.get(id, generation);
    assert.ok(row, "the row is cached at the current generation");
    const elsewhere = {
      kind: "api_key",
      keyId: randomUUID(),
      userId: me.id,
      organizationId: randomUUID(),
      scopes: ["read"],
      role: "owner",
    } as Principal;
    await assert.rejects(readOwnedDocument(reader, elsewhere, id, generation), { statusCode: 404 });
    await sql`update documents set deleted_at = now() where id = ${id}`.execute(writer.database.db);
    const home = { ...elsewhere, organizationId: row.organization_id } as Principal;
    assert.equal((await readOwnedDocument(reader, home, id, generation)).id, id, "a hand-written write: unseen");
    const fresh = await generationOf(reader, id);
    assert.equal(fresh, generation, "it moved no generation; the entry's lifetime bounds it");
  });

  it("moves an anonymous document to its new user: the other process serves the new owner at once", async () => {
    const anon = await a("POST", "/v1/auth/anonymous");
    const id = await newDoc(anon.body.accessToken, "anonymous text");
    await warm(anon.body.accessToken, id);
    const session = documentGenerations(reader)?.rows.get(id, await generationOf(reader, id))?.anonymous_session_id;
    assert.ok(session, "cached with its anonymous owner");
    const registered = await a("POST", "/v1/auth/register", {
      token: anon.body.accessToken,
      body: { email: `t-${randomUUID().slice(0, 8)}@example.com`, password, name: "Claimed" },
    });
    assert.equal(registered.status, 201);
    const owned = await read(registered.body.accessToken, id);
    assert.equal(owned.status, 200);
    assert.equal(owned.body.content, "anonymous text");
    assert.equal(owned.body.organizationId, registered.body.organizationId);
    const visitor: Principal = { kind: "anonymous", sessionId: session, organizationId: randomUUID() };
    await assert.rejects(readOwnedDocument(reader, visitor, id, await generationOf(reader, id)), {
      statusCode: 404,
    });
  });

  it("sees maintenance's archive and purge on the other process", async () => {
    const me = await user();
    const id = await newDoc(me.token);
    const anon = (await a("POST", "/v1/auth/anonymous")).body.accessToken as string;
    const anonId = await newDoc(anon);
    await warm(me.token, id);
    await warm(anon, anonId);
    // Unopened for months, as far as the database knows (B still holds the rows as they were).
    const db = writer.database.db;
    await sql`update documents set last_accessed_at = now() - interval '100 days' where id in (${id}, ${anonId})`.execute(
      db,
    );
    const report = await runWritingMaintenance(writer);
    assert.ok(report.archivedDocuments >= 1 && report.purgedDocuments >= 1, JSON.stringify(report));
    assert.equal((await read(me.token, id)).body.isArchived, true);
    assert.equal((await read(anon, anonId)).status, 404);
  });

  it("refuses a write it cannot mark (503, nothing written), while the other process keeps serving", async () => {
    const me = await user();
    const id = await newDoc(me.token);
    await warm(me.token, id);
    const cut = await openProcess();
    await cut.platform.kv.close();
    const refused = await cut.call("PATCH", `/v1/documents/${id}`, { token: me.token, body: { title: "Unmarked" } });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, "dependency_unavailable");
    assert.ok(refused.headers["retry-after"]);
    assert.equal((await read(me.token, id)).body.title, "Draft");
    const row = await writer.database.db
      .selectFrom("documents")
      .select("title")
      .where("id", "=", id)
      .executeTakeFirst();
    assert.equal(row?.title, "Draft", "the write did not happen");
  });

  it("reads by statement, and right, where the key-value store cannot answer", async () => {
    const me = await user();
    const id = await newDoc(me.token);
    const cut = await openProcess();
    assert.equal((await cut.call("GET", `/v1/documents/${id}`, { token: me.token })).status, 200);
    await cut.platform.kv.close();
    assert.equal((await a("PATCH", `/v1/documents/${id}`, { token: me.token, body: { title: "New" } })).status, 200);
    const before = await statements(cut.platform);
    const res = await cut.call("GET", `/v1/documents/${id}`, { token: me.token });
    assert.equal(res.status, 200, "the api class fails open");
    assert.equal(res.body.title, "New");
    assert.ok((await statements(cut.platform)) - before >= 1, "from Postgres, not from memory");
  });

  it("is off where it does not apply: embedded, and Postgres without Redis", async () => {
    const embedded = await openTestPlatform();
    const local = await openTestPlatform({ DATABASE_URL: scratch.url, STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET });
    try {
      for (const p of [embedded.platform, local.platform]) {
        assert.equal(documentGenerations(p), null);
        assert.equal(documentGenerationKey(p, randomUUID()), null);
      }
      const id = randomUUID();
      assert.equal(documentGenerationKey(reader, id), generationKey("documents", id));
      assert.equal(documentGenerationKey(reader, id.toUpperCase()), null, "one spelling per document");
    } finally {
      await embedded.dispose();
      await local.dispose();
    }
  });
});
