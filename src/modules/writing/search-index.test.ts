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
import { SEARCH_CHUNK_CHARS, splitForIndexing } from "./search-chunks.ts";
import {
  awaitSearchIndexing,
  SEARCH_REINDEX_INTERVAL_MS,
  scheduleSearchIndexing,
  textVector,
} from "./search-indexer.ts";
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
        await awaitSearchIndexing(opened.platform);
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
    await awaitSearchIndexing(opened.platform);
    const final = await size("document_search");
    assert.ok(final <= settled * 1.5, `document_search grew from ${settled} to ${final}`);
    const found = await search(call, token, "edit61x3");
    assert.ok(found.some((d) => d.id === doc.id));
  });
});

/** About `chars` of English prose with stop words, markdown, markup, links and a Chinese paragraph. */
function mixedText(chars: number, seed: number): string {
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const words =
    "the of and to in is it that for on with as was at by an be this from or are not but have which were all their they there can will would should about into through over under again very just now don't it's storage version history delta keyframe compress readme command line shell grep awk sed find xargs files".split(
      " ",
    );
  const extras = [
    '<img src="https://example.com/a b.png" alt="a picture of the shell">',
    "[a link](https://github.com/jlevy/the-art-of-command-line)",
    "`ls -la | grep foo`",
    "user@example.com",
    "3.14 v2.0.1 2026-11-30",
    "\n\n## A heading\n\n",
    "命令行 的 艺术 熟练 使用 命令行 是 一种 常常 被 忽视",
    "self-contained well-kept",
  ];
  const parts: string[] = [];
  let length = 0;
  while (length < chars) {
    const part =
      next() < 0.08
        ? (extras[Math.floor(next() * extras.length)] as string)
        : (words[Math.floor(next() * words.length)] as string);
    parts.push(part);
    length += part.length + 1;
  }
  return parts.join(next() < 0.5 ? " " : "\n");
}

describe("indexing large texts in pieces", () => {
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

  it("splits at whitespace into pieces of at most 8 KiB that join back to the text", () => {
    const text = mixedText(100_000, 3);
    const pieces = splitForIndexing(text);
    assert.ok(pieces.length >= 12, `${pieces.length} pieces`);
    assert.equal(pieces.join(""), text);
    for (const [i, piece] of pieces.entries()) {
      assert.ok(piece.length <= SEARCH_CHUNK_CHARS, `piece ${i}: ${piece.length}`);
      if (i > 0) assert.match(piece, /^\s/, "a piece after the first starts at whitespace, never inside a token");
    }
    // No whitespace at all for longer than a piece: the piece runs on to the next whitespace.
    const run = `${"字".repeat(10_000)} tail`;
    assert.deepEqual(splitForIndexing(run), [run.slice(0, 10_000), " tail"]);
  });

  it("computes the same vector as whole-text to_tsvector, so search, rank and snippets are unchanged", async () => {
    const texts = [
      mixedText(40_000, 1),
      mixedText(70_000, 2),
      Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? "the" : `word${i}`)).join(" "),
    ];
    for (const text of texts) {
      const whole = (await sql<{ v: string }>`select to_tsvector('english', ${text})::text as v`.execute(db())).rows[0]
        ?.v;
      assert.equal(await textVector(opened.platform, text), whole);
    }
  });

  it("indexes a large save after commit, off the save's transaction, and the entry matches whole-text indexing", async () => {
    const first = `${mixedText(30_000, 7)} quokka`;
    const doc = (await call("POST", "/v1/documents", { token, body: { title: "Large", content: first } })).body;
    await awaitSearchIndexing(opened.platform);
    assert.deepEqual(
      (await search(call, token, "quokka")).map((d) => d.id),
      [doc.id],
    );
    // Several large saves in a row, none awaited: the entry ends with the last one.
    const saves = [8, 9, 10].map((seed) => `${mixedText(30_000, seed)} wombat${seed}`);
    for (const content of saves) {
      const res = await call("POST", `/v1/documents/${doc.id}/versions`, { token, body: { content } });
      assert.equal(res.status, 201);
    }
    await awaitSearchIndexing(opened.platform);
    assert.equal((await search(call, token, "wombat10")).length, 1);
    assert.equal((await search(call, token, "wombat8")).length, 0);
    assert.equal((await search(call, token, "quokka")).length, 0);
    const pending = await db().selectFrom("document_search_pending").select("document_id").execute();
    assert.equal(pending.length, 0, "indexed documents leave the queue");
    const q = sql`websearch_to_tsquery('english', 'keyframe compress "command line"')`;
    const { rows } = await sql<{ same: boolean; rank: number; whole_rank: number; snippet: string }>`
      select s.search_vector = w.v as same,
        ts_rank_cd(s.search_vector, ${q})::float8 as rank,
        ts_rank_cd(w.v, ${q})::float8 as whole_rank,
        ts_headline('english', s.search_text, ${q}) as snippet
      from document_search s join documents d on d.id = s.document_id,
        lateral (select setweight(to_tsvector('english', d.title), 'A') ||
          setweight(to_tsvector('english', coalesce(d.description, '')), 'B') ||
          setweight(to_tsvector('english', s.search_text), 'C') as v) w
      where s.document_id = ${doc.id}`.execute(db());
    assert.equal(rows[0]?.same, true, "the entry's vector is the whole text's");
    assert.equal(rows[0]?.rank, rows[0]?.whole_rank);
    const found = await search(call, token, 'keyframe compress "command line"');
    assert.deepEqual(
      found.map((d) => d.id),
      [doc.id],
    );
    assert.match(found[0]?.highlights.snippet ?? "", /<mark>(keyframe|compress|command)<\/mark>/);
  });

  it("runs one indexing of a document at a time, and the sweep indexes a queued document nobody scheduled", async () => {
    const doc = (await call("POST", "/v1/documents", { token, body: { title: "Queued", content: "small start" } }))
      .body;
    await awaitSearchIndexing(opened.platform);
    // As after a crash between a large save's commit and its indexing.
    const content = `${mixedText(20_000, 11)} platypus`;
    const res = await call("POST", `/v1/documents/${doc.id}/versions`, { token, body: { content } });
    assert.equal(res.status, 201);
    await awaitSearchIndexing(opened.platform);
    await sql`insert into document_search_pending (document_id) values (${doc.id})`.execute(db());
    await sql`update document_search set text_sha256 = 'stale', search_vector = ''::tsvector,
      indexed_at = now() - interval '31 seconds' where document_id = ${doc.id}`.execute(db());
    assert.equal((await search(call, token, "platypus")).length, 0);
    const a = scheduleSearchIndexing(opened.platform, doc.id);
    const b = scheduleSearchIndexing(opened.platform, doc.id);
    assert.equal(a, b, "asked again while running, the same run continues (once more) instead of a second one");
    assert.equal(await a, true);
    assert.equal((await search(call, token, "platypus")).length, 1);

    await sql`insert into document_search_pending (document_id) values (${doc.id})`.execute(db());
    await sql`update document_search set text_sha256 = 'stale', search_vector = ''::tsvector,
      indexed_at = now() - interval '31 seconds' where document_id = ${doc.id}`.execute(db());
    assert.equal(await reindexPendingSearch(opened.platform), 1);
    assert.equal((await search(call, token, "platypus")).length, 1);
  });
  it("indexes a document at most once per interval: saves in quick succession are indexed once, for the last", async () => {
    const doc = (await call("POST", "/v1/documents", { token, body: { title: "Rapid", content: "small start" } })).body;
    await awaitSearchIndexing(opened.platform);
    const started = performance.now();
    const first = await call("POST", `/v1/documents/${doc.id}/versions`, {
      token,
      body: { content: `${mixedText(20_000, 21)} numbat` },
    });
    assert.equal(first.status, 201);
    await awaitSearchIndexing(opened.platform);
    assert.equal((await search(call, token, "numbat")).length, 1, "the first large save is indexed at once");
    // Three more within the interval: one indexing, after the interval, of the last.
    for (const seed of [22, 23, 24]) {
      const res = await call("POST", `/v1/documents/${doc.id}/versions`, {
        token,
        body: { content: `${mixedText(20_000, seed)} quoll${seed}` },
      });
      assert.equal(res.status, 201);
    }
    await awaitSearchIndexing(opened.platform);
    assert.ok(
      performance.now() - started >= SEARCH_REINDEX_INTERVAL_MS,
      "the second indexing began no sooner than the interval after the first",
    );
    assert.equal((await search(call, token, "quoll24")).length, 1);
    assert.equal((await search(call, token, "quoll22")).length, 0);
    assert.equal((await search(call, token, "numbat")).length, 0);
  });

  it("restores a large version by reference: no new object, exact content, searchable once indexed", async () => {
    const texts = [25, 26].map((seed) => `${mixedText(20_000, seed)} dingo${seed}`);
    const doc = (await call("POST", "/v1/documents", { token, body: { title: "Restore", content: texts[0] } })).body;
    await call("POST", `/v1/documents/${doc.id}/versions`, { token, body: { content: texts[1] } });
    await awaitSearchIndexing(opened.platform);
    const objects = async () =>
      Number(
        (
          await db()
            .selectFrom("document_objects")
            .select(sql<number>`count(*)`.as("n"))
            .where("document_id", "=", doc.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await objects();
    const restored = await call("POST", `/v1/documents/${doc.id}/versions/1/restore`, { token });
    assert.equal(restored.status, 201);
    assert.equal(await objects(), before, "the restore refers to the stored object");
    // The current-content copy is rebuilt from the object on the next read.
    const read = await call("GET", `/v1/documents/${doc.id}`, { token });
    assert.equal(read.body.content, texts[0]);
    assert.equal(read.body.history.versions, 3);
    const version = await call("GET", `/v1/documents/${doc.id}/versions/${restored.body.number}`, { token });
    assert.equal(version.body.content, texts[0]);
    await awaitSearchIndexing(opened.platform);
    assert.equal((await search(call, token, "dingo25")).length, 1);
    assert.equal((await search(call, token, "dingo26")).length, 0);
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
