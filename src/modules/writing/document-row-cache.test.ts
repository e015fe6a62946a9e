import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { client } from "../../../test/support/http.ts";
import { createDraft, registerUser, statementsSent } from "../../../test/support/writing-fixtures.ts";
import type { App } from "../../http/app.ts";
import { buildServer } from "../../http/server.ts";
import { transaction } from "../../platform/database/transaction.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import { wireModules } from "../../runtime/module-wiring.ts";
import type { Platform } from "../../runtime/platform.ts";
import { readOwnedDocument } from "./document-read.ts";
import { documentRowCache } from "./document-row-cache.ts";
import { writingModule } from "./index.ts";
import { runWritingMaintenance } from "./maintenance.ts";

/**
 * The embedded profile's document row cache: whatever writes a document,
 * the next read sees it, and a warm read asks the database nothing.
 */
describe("document row cache (embedded)", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  let platform: Platform;
  let app: App;
  let call: ReturnType<typeof client>;
  const password = "correct horse battery staple";

  before(async () => {
    ai = await startChatCompletionsServer();
    opened = await openTestPlatform({ AI_BASE_URL: ai.baseUrl, AI_MODEL: "test-model" });
    platform = opened.platform;
    await createMigrator(platform.database, [writingModule]).up();
    wireModules(platform, [writingModule]);
    app = await buildServer(platform, [writingModule]);
    call = client(app);
  });
  after(async () => {
    await app?.close();
    await opened?.dispose();
    await ai?.stop();
  });

  const user = () => registerUser(call, "Cached");
  const newDoc = (token: string, content?: string) => createDraft(call, token, content);
  const read = (token: string, id: string) => call("GET", `/v1/documents/${id}`, { token });
  const queries = () => statementsSent(platform);
  /** The cache, once its LISTEN is in effect (it starts on the first read). */
  async function rows() {
    for (;;) {
      const cache = documentRowCache(platform);
      if (cache) return cache;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  /** Reads until the row is cached, so the write that follows must invalidate it. */
  async function warm(token: string, id: string) {
    const cache = await rows();
    assert.equal((await read(token, id)).status, 200);
    assert.ok(cache.get(id), "the read cached the row");
  }

  it("delivers a committed write's notification before the write's promise resolves", async () => {
    const me = await user();
    const id = await newDoc(me.token);
    await warm(me.token, id);
    const cache = await rows();
    await sql`update documents set title = 'plain' where id = ${id}`.execute(platform.database.db);
    assert.equal(cache.get(id), undefined, "a lone statement: dropped by the time its await returns");
    await warm(me.token, id);
    await transaction(platform.database.db, async (trx) => {
      await sql`update documents set title = 'in a transaction' where id = ${id}`.execute(trx);
      assert.ok(cache.get(id), "not before COMMIT: a rollback would have changed nothing");
    });
    assert.equal(cache.get(id), undefined, "a transaction: dropped by the time COMMIT's await returns");
    assert.equal((await read(me.token, id)).body.title, "in a transaction");
    await assert.rejects(
      transaction(platform.database.db, async (trx) => {
        await sql`update documents set title = 'rolled back' where id = ${id}`.execute(trx);
        throw new Error("abandon");
      }),
    );
    assert.ok(cache.get(id), "a rolled-back write announces nothing");
  });

  it("serves a warm read with no database statement", async () => {
    const me = await user();
    const id = await newDoc(me.token, "x".repeat(4096));
    await warm(me.token, id);
    const cold = await app.inject({
      method: "GET",
      url: `/v1/documents/${id}`,
      headers: { authorization: `Bearer ${me.token}` },
    });
    const before = await queries();
    for (let i = 0; i < 5; i++) {
      const warmRead = await app.inject({
        method: "GET",
        url: `/v1/documents/${id}`,
        headers: { authorization: `Bearer ${me.token}` },
      });
      assert.equal(warmRead.headers["content-type"], "application/json; charset=utf-8");
      assert.equal(warmRead.body, cold.body, "the body made for the cached row is sent again as it was");
      assert.equal(JSON.parse(warmRead.body).content.length, 4096);
    }
    assert.equal((await queries()) - before, 0);
  });

  it("answers 404 to another owner from a warm cache, as the statement did", async () => {
    const me = await user();
    const other = await user();
    const anon = (await call("POST", "/v1/auth/anonymous")).body.accessToken as string;
    const id = await newDoc(me.token);
    await warm(me.token, id);
    for (const token of [other.token, anon]) {
      const res = await read(token, id);
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, "document_not_found");
    }
    const row = (await rows()).get(id);
    assert.ok(row);
    const apiKeyElsewhere: Principal = {
      kind: "api_key",
      keyId: randomUUID(),
      userId: me.id,
      organizationId: randomUUID(),
      scopes: [],
      role: "owner",
    } as Principal;
    await assert.rejects(readOwnedDocument(platform, apiKeyElsewhere, id), { statusCode: 404 });
    const apiKeyHome = { ...apiKeyElsewhere, organizationId: row.organization_id } as Principal;
    assert.equal((await readOwnedDocument(platform, apiKeyHome, id)).id, id);
  });

  it("shows every kind of write to the next read", async () => {
    const me = await user();
    const id = await newDoc(me.token, "first");
    const patch = (body: object) => call("PATCH", `/v1/documents/${id}`, { token: me.token, body });

    await warm(me.token, id);
    assert.equal((await patch({ title: "Renamed" })).status, 200);
    assert.equal((await read(me.token, id)).body.title, "Renamed");

    await warm(me.token, id);
    await patch({ tags: ["a", "b"] });
    assert.deepEqual((await read(me.token, id)).body.tags, ["a", "b"]);

    await warm(me.token, id);
    await patch({ isArchived: true });
    assert.equal((await read(me.token, id)).body.isArchived, true);
    await patch({ isArchived: false });

    await warm(me.token, id);
    const saved = await call("POST", `/v1/documents/${id}/versions`, { token: me.token, body: { content: "second" } });
    assert.equal(saved.status, 201);
    const afterSave = await read(me.token, id);
    assert.equal(afterSave.body.content, "second");
    assert.equal(afterSave.body.currentVersion.number, 2);

    await warm(me.token, id);
    assert.equal((await call("DELETE", `/v1/documents/${id}`, { token: me.token })).status, 204);
    assert.equal((await read(me.token, id)).status, 404);
    assert.equal((await call("POST", `/v1/documents/${id}/restore`, { token: me.token })).status, 200);
    assert.equal((await read(me.token, id)).body.content, "second");

    await warm(me.token, id);
    const suggestion = await call("POST", `/v1/documents/${id}/suggestions`, {
      token: me.token,
      body: { prompt: "Capitalize sentences." },
    });
    assert.equal(suggestion.status, 201);
    await warm(me.token, id);
    assert.equal((await call("POST", `/v1/suggestions/${suggestion.body.id}/accept`, { token: me.token })).status, 200);
    const accepted = await read(me.token, id);
    assert.equal(accepted.body.content, "Second");
    assert.equal(accepted.body.currentVersion.number, 4);
  });

  it("moves an anonymous document to its new user: the old principal gets 404 from then on", async () => {
    const anon = await call("POST", "/v1/auth/anonymous");
    const id = await newDoc(anon.body.accessToken, "anonymous text");
    await warm(anon.body.accessToken, id);
    const session = (await rows()).get(id)?.anonymous_session_id;
    assert.ok(session);
    const reg = await call("POST", "/v1/auth/register", {
      token: anon.body.accessToken,
      body: { email: `t-${randomUUID().slice(0, 8)}@example.com`, password, name: "Claimed" },
    });
    assert.equal(reg.status, 201);
    const visitor: Principal = { kind: "anonymous", sessionId: session, organizationId: randomUUID() };
    await assert.rejects(readOwnedDocument(platform, visitor, id), { statusCode: 404 });
    assert.equal((await read(reg.body.accessToken, id)).body.content, "anonymous text");
  });

  it("sees maintenance archive and purge", async () => {
    const me = await user();
    const id = await newDoc(me.token);
    const anon = (await call("POST", "/v1/auth/anonymous")).body.accessToken as string;
    const anonId = await newDoc(anon);
    const db = platform.database.db;
    const cache = await rows();
    // Rows that look unopened for months, cached as such (a read would touch them).
    for (const doc of [id, anonId]) {
      await sql`update documents set last_accessed_at = now() - interval '100 days' where id = ${doc}`.execute(db);
      await cache.getOrLoad(doc, async () =>
        Object.freeze(
          (await db.selectFrom("documents").selectAll().where("id", "=", doc).executeTakeFirstOrThrow()) as any,
        ),
      );
      assert.ok(cache.get(doc));
    }
    const report = await runWritingMaintenance(platform);
    assert.ok(report.archivedDocuments >= 1 && report.purgedDocuments >= 1);
    assert.equal(cache.get(id), undefined, "archiving dropped the row");
    assert.equal(cache.get(anonId), undefined, "purging dropped the row");
    assert.equal((await read(me.token, id)).body.isArchived, true);
    assert.equal((await read(anon, anonId)).status, 404);
  });

  it("never stores a row read before a write that commits while the read is in flight", async () => {
    const me = await user();
    const id = await newDoc(me.token);
    const cache = await rows();
    const db = platform.database.db;
    // The load's SELECT runs first and returns the old row; the write then
    // commits (its notification arriving) before the load gets to store.
    let releaseLoad!: () => void;
    const loadHeld = new Promise<void>((resolve) => {
      releaseLoad = resolve;
    });
    const loading = cache.getOrLoad(id, async () => {
      const row = await db.selectFrom("documents").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      await loadHeld;
      return Object.freeze(row as any);
    });
    await sql`update documents set title = 'written during the read' where id = ${id}`.execute(db);
    releaseLoad();
    assert.equal((await loading)?.title, "Draft", "the racing read itself answers what it read");
    assert.equal(cache.get(id), undefined, "but does not keep it");
    assert.equal((await read(me.token, id)).body.title, "written during the read");
    assert.equal(cache.get(id)?.title, "written during the read");
  });
});
