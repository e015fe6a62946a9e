import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { client } from "../../../test/support/http.ts";
import { loadConfig } from "../../config/config.ts";
import type { App } from "../../http/app.ts";
import { buildServer } from "../../http/server.ts";
import { runStorageHygiene } from "../../platform/database/storage-hygiene.ts";
import { createLogger } from "../../platform/logging/logger.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import { openPlatform, type Platform } from "../../runtime/platform.ts";
import { writingModule } from "./index.ts";
import { reindexPendingSearch } from "./search-reindex.ts";

async function serve(platform: Platform) {
  await createMigrator(platform.database, [writingModule]).up();
  const app = await buildServer(platform, [writingModule]);
  return { app, call: client(app) };
}

async function search(call: ReturnType<typeof client>, token: string, q: string) {
  const res = await call("GET", `/v1/documents?q=${encodeURIComponent(q)}`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items as { id: string; highlights: { title: string; snippet: string } }[];
}

/** Makes the document's search entry look as if it was indexed `seconds` ago. */
async function ageEntry(platform: Platform, documentId: string, seconds: number) {
  await sql`update document_search set indexed_at = now() - make_interval(secs => ${seconds})
    where document_id = ${documentId}`.execute(platform.database.db);
}

describe("search entries apart from the document row", () => {
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  let app: App;
  let call: ReturnType<typeof client>;
  let token: string;

  before(async () => {
    opened = await openTestPlatform({ BODY_LIMIT_BYTES: String(4 * 1024 * 1024) });
    ({ app, call } = await serve(opened.platform));
    token = (await call("POST", "/v1/auth/anonymous")).body.accessToken;
  });
  after(async () => {
    await app?.close();
    await opened?.dispose();
  });

  const db = () => opened.platform.database.db;
  const entryXmin = async (id: string) =>
    (await sql<{ xmin: string }>`select xmin::text from document_search where document_id = ${id}`.execute(db()))
      .rows[0]?.xmin;

  it("indexes a major save at once, rewrites nothing for unchanged content, and follows title edits", async () => {
    const doc = (await call("POST", "/v1/documents", { token, body: { title: "Notes", content: "alpha words" } })).body;
    assert.deepEqual(
      (await search(call, token, "alpha")).map((d) => d.id),
      [doc.id],
    );
    const saved = await call("POST", `/v1/documents/${doc.id}/versions`, {
      token,
      body: { content: "gamma ray notes" },
    });
    assert.equal(saved.status, 201);
    assert.deepEqual(
      (await search(call, token, "gamma")).map((d) => d.id),
      [doc.id],
    );
    assert.equal((await search(call, token, "alpha")).length, 0);

    const before = await entryXmin(doc.id);
    for (const kind of ["major", "minor"]) {
      await call("POST", `/v1/documents/${doc.id}/versions`, { token, body: { content: "gamma ray notes", kind } });
    }
    assert.equal(await entryXmin(doc.id), before, "the same content again leaves the entry untouched");

    await call("PATCH", `/v1/documents/${doc.id}`, { token, body: { title: "Zebra crossing" } });
    const found = await search(call, token, "zebra");
    assert.deepEqual(
      found.map((d) => d.id),
      [doc.id],
    );
    assert.match(found[0]?.highlights.title ?? "", /<mark>Zebra<\/mark>/);
    assert.deepEqual(
      (await search(call, token, "gamma")).map((d) => d.id),
      [doc.id],
      "the body is still searchable after the title change",
    );
  });

  it("coalesces autosaves: queued in the save's transaction, indexed by the sweep once the entry is 30 s old", async () => {
    const doc = (await call("POST", "/v1/documents", { token, body: { title: "Diary", content: "orchid garden" } }))
      .body;
    for (const content of ["orchid garden tulip", "orchid garden tulip meadow"]) {
      const res = await call("POST", `/v1/documents/${doc.id}/versions`, { token, body: { content, kind: "minor" } });
      assert.equal(res.status, 201);
    }
    assert.equal((await search(call, token, "meadow")).length, 0, "within the window the autosave is not indexed yet");
    assert.equal((await search(call, token, "orchid")).length, 1, "the entry still holds the last indexed text");
    const pending = await db()
      .selectFrom("document_search_pending")
      .select("document_id")
      .where("document_id", "=", doc.id)
      .execute();
    assert.equal(pending.length, 1);
    assert.equal(await reindexPendingSearch(opened.platform), 0, "a fresh entry is not rewritten by the sweep");

    await ageEntry(opened.platform, doc.id, 31);
    assert.equal(await reindexPendingSearch(opened.platform), 1);
    const found = await search(call, token, "meadow");
    assert.deepEqual(
      found.map((d) => d.id),
      [doc.id],
    );
    assert.match(found[0]?.highlights.snippet ?? "", /<mark>meadow<\/mark>/);
    const left = await db().selectFrom("document_search_pending").select("document_id").execute();
    assert.equal(left.length, 0);

    // An autosave after a quiet spell is indexed at once.
    await ageEntry(opened.platform, doc.id, 31);
    await call("POST", `/v1/documents/${doc.id}/versions`, { token, body: { content: "lilac", kind: "minor" } });
    assert.equal((await search(call, token, "lilac")).length, 1);
  });

  it("keeps the documents table small and the search table bounded through many large saves", async () => {
    // About 100 KB of poorly compressible words; each save edits a few of them.
    let state = 1;
    const base = Array.from({ length: 15_000 }, () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state.toString(36);
    });
    const words = (edit: number) => {
      const copy = [...base];
      for (let k = 0; k < 20; k++) copy[(edit * 7919 + k * 104_729) % copy.length] = `edit${edit}x${k}`;
      return copy.join(" ");
    };
    const size = async (table: string) =>
      Number(
        (await sql<{ bytes: string }>`select pg_total_relation_size(${table}::regclass)::text as bytes`.execute(db()))
          .rows[0]?.bytes,
      );
    const doc = (await call("POST", "/v1/documents", { token, body: { title: "Big", content: words(1) } })).body;
    let settled = 0;
    for (let i = 2; i <= 61; i++) {
      const res = await call("POST", `/v1/documents/${doc.id}/versions`, { token, body: { content: words(i) } });
      assert.equal(res.status, 201);
      if (i % 20 === 0) {
        await runStorageHygiene(db());
        if (i === 20) settled = await size("document_search");
      }
    }
    // The row keeps only small columns now; before, each of these saves left
    // a dead copy of about 100 KB of text and its vector in it.
    assert.ok((await size("documents")) < 512 * 1024, `documents: ${await size("documents")}`);
    // Vacuumed every 20 saves, the search table reuses its space: 40 more
    // large saves leave it near its size after the first 20 (without vacuum
    // it would about triple).
    const final = await size("document_search");
    assert.ok(final <= settled * 1.5, `document_search grew from ${settled} to ${final}`);
    const found = await search(call, token, "edit61x3");
    assert.ok(found.some((d) => d.id === doc.id));
  });
});

describe("queued autosaves survive a restart", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strata-search-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = () =>
    openPlatform(loadConfig({ STRATA_DATA_DIR: dir, PUBLIC_URL: "http://strata.test", LOG_LEVEL: "silent" }), {
      logger: createLogger("silent"),
    });

  it("indexes an autosave queued before the process stopped", async () => {
    let platform = await open();
    let served = await serve(platform);
    const token = (await served.call("POST", "/v1/auth/anonymous")).body.accessToken;
    const doc = (await served.call("POST", "/v1/documents", { token, body: { title: "Log", content: "first entry" } }))
      .body;
    await served.call("POST", `/v1/documents/${doc.id}/versions`, {
      token,
      body: { content: "first entry saffron", kind: "minor" },
    });
    assert.equal((await search(served.call, token, "saffron")).length, 0);
    await served.app.close();
    await platform.close();

    platform = await open();
    try {
      served = await serve(platform);
      await ageEntry(platform, doc.id, 31);
      assert.equal(await reindexPendingSearch(platform), 1);
      assert.equal((await search(served.call, token, "saffron")).length, 1);
      await served.app.close();
    } finally {
      await platform.close();
    }
  });
});
