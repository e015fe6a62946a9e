import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { eventually } from "../../../test/support/eventually.ts";
import { client } from "../../../test/support/http.ts";
import { assertJournalSchema } from "../../../test/support/journal-schema.ts";
import { registerUser } from "../../../test/support/writing-fixtures.ts";
import type { App } from "../../http/app.ts";
import { buildServer } from "../../http/server.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import type { Platform } from "../../runtime/platform.ts";
import { startWorkers } from "../../runtime/workers.ts";
import { writingModule } from "../writing/index.ts";
import { refreshStatistics } from "./analytics.ts";
import { insightsKey, taskStatusKey } from "./caches.ts";
import { journalModule } from "./index.ts";

const modules = [writingModule, journalModule];

describe("journal module (embedded)", () => {
  let dispose: () => Promise<void>;
  let platform: Platform;
  let app: App;
  let stopWorkers: () => Promise<void>;
  let call: ReturnType<typeof client>;
  let token: string;

  before(async () => {
    const opened = await openTestPlatform();
    dispose = opened.dispose;
    platform = opened.platform;
    await createMigrator(platform.database, modules).up();
    app = await buildServer(platform, modules);
    stopWorkers = await startWorkers(platform, modules);
    call = client(app);
    ({ token } = await registerUser(call, "Journaler"));
  });
  after(async () => {
    await stopWorkers?.();
    await app?.close();
    await dispose?.();
  });

  const write = async (body: Record<string, unknown>, as = token) => {
    const res = await call("POST", "/v1/journal/entries", { token: as, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  };
  const analyzed = (entryId: string, as = token) =>
    eventually(
      async () => (await call("GET", `/v1/journal/entries/${entryId}`, { token: as })).body,
      (entry) => entry.sentiment.length > 0 && entry.sentiment.every((s: { stale: boolean }) => !s.stale),
      20_000,
    );
  const embedded = (entryId: string) =>
    eventually(
      () =>
        platform.database.db
          .selectFrom("embeddings")
          .select("text_sha256")
          .where("resource_id", "=", entryId)
          .executeTakeFirst(),
      (row) => row !== undefined,
      20_000,
    );

  it("analyzes a new entry: sentiment by the lexicon model, emotions, topics, mood, and the task's status and results", async () => {
    const entry = await write({
      title: "Exam nerves",
      content: "I was so anxious about the exam. I could not sleep at all. I worry I will fail the exam.",
      entryDate: "2026-11-20",
    });
    assert.equal(entry.wordCount, 20);
    assert.ok(entry.analysisTaskId);
    const done = await analyzed(entry.id);
    const [sentiment] = done.sentiment;
    assert.equal(sentiment.model, "vader-lexicon-1.1.3");
    assert.equal(sentiment.label, "negative");
    assert.ok(sentiment.confidence > 0 && sentiment.confidence <= 1);
    assert.ok(sentiment.emotions.fear > 0.5, JSON.stringify(sentiment.emotions));
    assert.equal(done.moodOrigin, "analysis");
    assert.ok(done.moodScore < 0);
    const names = done.topics.map((t: { name: string }) => t.name);
    for (const expected of ["anxiety", "sleep", "study"]) assert.ok(names.includes(expected), names.join(","));
    const task = await call("GET", `/v1/journal/tasks/${entry.analysisTaskId}`, { token });
    assert.equal(task.body.status, "succeeded");
    assert.equal(task.body.result.sentiment.label, "negative");
    assert.ok(await platform.kv.get(taskStatusKey(entry.analysisTaskId)), "status kept under tasks:status:*");
  });

  it("keeps a mood the writer gave, and fills it again once they clear it", async () => {
    const entry = await write({
      content: "A wonderful day at the beach. We laughed and I am grateful.",
      moodScore: -0.5,
    });
    const done = await analyzed(entry.id);
    assert.equal(done.moodScore, -0.5);
    assert.equal(done.moodOrigin, "user");
    assert.equal(done.sentiment[0].label, "positive");
    const cleared = await call("PATCH", `/v1/journal/entries/${entry.id}`, { token, body: { moodScore: null } });
    assert.equal(cleared.status, 200);
    assert.ok(cleared.body.analysisTaskId);
    const refilled = await eventually(
      async () => (await call("GET", `/v1/journal/entries/${entry.id}`, { token })).body,
      (e) => e.moodOrigin === "analysis",
      20_000,
    );
    assert.ok(refilled.moodScore > 0);
  });

  it("re-analyzes and re-embeds an edit: the old results are stale at once, then replaced", async () => {
    const entry = await write({ content: "Happy and calm, a lovely quiet morning." });
    await analyzed(entry.id);
    const before = await embedded(entry.id);
    assert.ok(before, "the entry was embedded");
    const edited = await call("PATCH", `/v1/journal/entries/${entry.id}`, {
      token,
      body: { content: "Terrible, angry, furious day. Everything went wrong and I hate it." },
    });
    assert.equal(edited.status, 200);
    assert.equal(edited.body.sentiment[0].stale, true, "the old analysis reads as stale until replaced");
    const gone = await platform.database.db
      .selectFrom("embeddings")
      .select("text_sha256")
      .where("resource_id", "=", entry.id)
      .executeTakeFirst();
    // The edit's transaction removed the old text's vector; a worker may already have made the new one.
    assert.notEqual(gone?.text_sha256, before.text_sha256, "no vector of the old text survives the edit");
    const done = await analyzed(entry.id);
    assert.equal(done.sentiment[0].label, "negative");
    assert.ok(done.sentiment[0].emotions.anger > 0);
    const after = await embedded(entry.id);
    assert.ok(after, "the edit was embedded");
    assert.notEqual(after.text_sha256, before.text_sha256);
  });

  it("leaves nothing behind for an entry deleted before its analysis and embedding ran", async () => {
    // Workers paused: the jobs are queued when the delete lands.
    await stopWorkers();
    let restarted = false;
    try {
      const entry = await write({ content: "Short-lived thoughts about gardening and tomatoes. Tomatoes everywhere." });
      assert.equal((await call("DELETE", `/v1/journal/entries/${entry.id}`, { token })).status, 204);
      stopWorkers = await startWorkers(platform, modules);
      restarted = true;
      await eventually(
        () =>
          platform.database.db
            .selectFrom("jobs")
            .select("status")
            .where("id", "=", entry.analysisTaskId)
            .executeTakeFirstOrThrow(),
        (job) => job.status === "succeeded",
        20_000,
      );
      const left = await sql<{ n: string }>`
        select (select count(*) from sentiment_analysis where entry_id = ${entry.id})
          + (select count(*) from entry_topics where entry_id = ${entry.id})
          + (select count(*) from embeddings where resource_id = ${entry.id})
          + (select count(*) from embedding_outbox where resource_id = ${entry.id})
          + (select count(*) from topics where name = 'tomatoes') as n`.execute(platform.database.db);
      assert.equal(Number(left.rows[0]?.n), 0);
      assert.equal((await call("GET", `/v1/journal/entries/${entry.id}`, { token })).status, 404);
    } finally {
      if (!restarted) stopWorkers = await startWorkers(platform, modules);
    }
  });

  it("finds entries by weighted full text with snippets, a title match above a body match", async () => {
    const { token: own } = await registerUser(call, "Searcher");
    const inTitle = await write({ title: "Marathon training", content: "Legs heavy after a long week." }, own);
    const inBody = await write({ title: "Sunday", content: "Thinking about the marathon next spring, maybe." }, own);
    await write({ title: "Groceries", content: "Bread, milk and apples." }, own);
    const res = await call("GET", "/v1/journal/search?q=marathon&mode=fulltext", { token: own });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.items.map((i: { id: string }) => i.id),
      [inTitle.id, inBody.id],
    );
    assert.match(res.body.items[1].snippet, /<mark>marathon<\/mark>/);
    const hybrid = await call("GET", "/v1/journal/search?q=marathon", { token: own });
    assert.equal(hybrid.body.items[0].id, inTitle.id);
    assert.ok(hybrid.body.items[0].signals.fullText.rank === 1);
    // A misspelling: full text misses it; trigram similarity corrects it to a word the entries hold.
    const typo = await call("GET", "/v1/journal/search?q=marathn", { token: own });
    const found = typo.body.items.find((i: { id: string }) => i.id === inBody.id);
    assert.ok(found, JSON.stringify(typo.body));
    assert.equal(found.signals.fullText, null);
    assert.ok(found.signals.trigram, JSON.stringify(found.signals));
    // The title match still ranks first on the trigram signal.
    assert.equal(typo.body.items[0].id, inTitle.id);
  });

  it("searches only the caller's entries, and across modules at /v1/search", async () => {
    const { token: mine } = await registerUser(call, "Mine");
    const { token: theirs } = await registerUser(call, "Theirs");
    const entry = await write({ content: "Kayaking on the fjord at dawn." }, mine);
    await write({ content: "Kayaking lessons were cancelled." }, theirs);
    const doc = await call("POST", "/v1/documents", {
      token: mine,
      body: { title: "Kayaking guide", content: "Paddles." },
    });
    assert.equal(doc.status, 201);
    const res = await call("GET", "/v1/search?q=kayaking", { token: mine });
    assert.equal(res.status, 200);
    const kinds = res.body.items.map((i: { kind: string; id: string }) => `${i.kind}:${i.id}`).sort();
    assert.deepEqual(kinds, [`document:${doc.body.id}`, `journal_entry:${entry.id}`].sort());
    const journal = res.body.items.find((i: { kind: string }) => i.kind === "journal_entry");
    assert.equal(journal.module, "journal");
    assert.equal(journal.url, `/v1/journal/entries/${entry.id}`);
    const only = await call("GET", "/v1/search?q=kayaking&kinds=document", { token: mine });
    assert.deepEqual(
      only.body.items.map((i: { kind: string }) => i.kind),
      ["document"],
    );
  });

  it("finds similar entries by embedding, above the threshold, the caller's only", async () => {
    const { token: own } = await registerUser(call, "Similar");
    const a = await write({ content: "Went running in the park this morning, a long easy run." }, own);
    const b = await write({ content: "A long easy run in the park this morning before work." }, own);
    const c = await write({ content: "Tax forms and invoices piled on the desk." }, own);
    for (const e of [a, b, c]) await embedded(e.id);
    const res = await call("GET", `/v1/journal/entries/${a.id}/similar?minSimilarity=0.3`, { token: own });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.items.map((i: { id: string }) => i.id),
      [b.id],
    );
    assert.equal(res.body.items[0].model, "strata-hashing-v1");
    assert.equal((await call("GET", `/v1/journal/entries/${a.id}/similar`, { token })).status, 404);
  });

  it("lists entries newest first with cursors, filtered by dates, topic and mood", async () => {
    const { token: own } = await registerUser(call, "Lister");
    const topic = await call("POST", "/v1/journal/topics", { token: own, body: { name: "Garden" } });
    assert.equal(topic.status, 201);
    const one = await write(
      { content: "Seeds planted.", entryDate: "2026-01-05", moodScore: 0.5, topicIds: [topic.body.id] },
      own,
    );
    const two = await write({ content: "Rain all day.", entryDate: "2026-02-10", moodScore: -0.4 }, own);
    const three = await write({ content: "First tomato.", entryDate: "2026-03-15", moodScore: 0.9 }, own);
    const page1 = await call("GET", "/v1/journal/entries?limit=2", { token: own });
    assert.deepEqual(
      page1.body.items.map((e: { id: string }) => e.id),
      [three.id, two.id],
    );
    const page2 = await call("GET", `/v1/journal/entries?limit=2&cursor=${page1.body.nextCursor}`, { token: own });
    assert.deepEqual(
      page2.body.items.map((e: { id: string }) => e.id),
      [one.id],
    );
    assert.equal(page2.body.nextCursor, null);
    const ids = async (query: string) =>
      (await call("GET", `/v1/journal/entries?${query}`, { token: own })).body.items.map((e: { id: string }) => e.id);
    assert.deepEqual(await ids("from=2026-02-01&to=2026-02-28"), [two.id]);
    assert.deepEqual(await ids(`topicId=${topic.body.id}`), [one.id]);
    assert.deepEqual(await ids("moodMin=0.6"), [three.id]);
  });

  it("matches topics by trigram similarity, creates the caller's own, and suggests new ones", async () => {
    const { token: own } = await registerUser(call, "Topics");
    const fuzzy = await call("GET", "/v1/journal/topics?match=exercize", { token: own });
    assert.equal(fuzzy.body.items[0].name, "exercise");
    assert.ok(fuzzy.body.items[0].similarity > 0.3);
    const made = await call("POST", "/v1/journal/topics", { token: own, body: { name: "Pottery" } });
    assert.equal(made.status, 201);
    const taken = await call("POST", "/v1/journal/topics", { token: own, body: { name: "pottery" } });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, "topic_name_taken");
    await write({ content: "Glazing bowls in the studio, the kiln was hot." }, own);
    await write({ content: "Unloaded the kiln at noon." }, own);
    const suggestions = await call("GET", "/v1/journal/topics/suggestions", { token: own });
    const kiln = suggestions.body.items.find((s: { name: string }) => s.name === "kiln");
    assert.equal(kiln?.entries, 2, JSON.stringify(suggestions.body));
  });

  it("answers mood trends by week, statistics after the scheduled refresh, and cached insights dropped on change", async () => {
    const { token: own, id } = await registerUser(call, "Analyst");
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await write({ content: "Good.", entryDate: today, moodScore: 0.8 }, own);
    await write({ content: "Fine.", entryDate: yesterday, moodScore: 0.2 }, own);
    const trends = await call("GET", "/v1/journal/mood-trends", { token: own });
    assert.equal(trends.status, 200);
    const total = trends.body.items.reduce((n: number, w: { entryCount: number }) => n + w.entryCount, 0);
    assert.equal(total, 2);
    const first = await call("GET", "/v1/journal/insights", { token: own });
    assert.equal(first.body.streaks.current, 2);
    assert.equal(first.body.writingFrequency.entriesLast30Days, 2);
    assert.ok(await platform.kv.get(insightsKey(id)), "insights cached under api:analytics:{user_id}");
    await write({ content: "Another.", entryDate: today, moodScore: 0.1 }, own);
    assert.equal(await platform.kv.get(insightsKey(id)), null, "a write drops the cached insights");
    assert.equal(
      (await call("GET", "/v1/journal/insights", { token: own })).body.writingFrequency.entriesLast30Days,
      3,
    );
    assert.equal((await call("GET", "/v1/journal/statistics", { token: own })).body.totalEntries, 0);
    await refreshStatistics(platform);
    const stats = await call("GET", "/v1/journal/statistics", { token: own });
    assert.equal(stats.body.totalEntries, 3);
    assert.equal(stats.body.lastEntryDate, today);
  });

  it("holds seed 002's schema: its indexes, generated columns, checks, unique rules and cascades", async () => {
    const { id: userId } = await registerUser(call, "Schemer");
    await assertJournalSchema(platform.database.db, userId);
  });

  it("moves an anonymous session's entries and topics to the account it registers", async () => {
    const anon = (await call("POST", "/v1/auth/anonymous")).body.accessToken;
    const topic = await call("POST", "/v1/journal/topics", { token: anon, body: { name: "Dreams" } });
    const entry = await write({ content: "I dreamt of flying over the sea.", topicIds: [topic.body.id] }, anon);
    const registered = await call("POST", "/v1/auth/register", {
      token: anon,
      body: { email: `claim-${entry.id.slice(0, 8)}@example.com`, password: "correct horse battery staple" },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const mine = await call("GET", `/v1/journal/entries/${entry.id}`, { token: registered.body.accessToken });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.owner.kind, "user");
    assert.equal(mine.body.topics[0].name, "Dreams");
  });

  it("refuses bad input with a 4xx naming the field, and matches nothing for stop words", async () => {
    const bad = async (method: "POST" | "PATCH" | "GET", url: string, body?: unknown) => {
      const res = await call(method, url, { token, ...(body ? { body } : {}) });
      assert.ok(res.status >= 400 && res.status < 500, `${url} ${JSON.stringify(body)} gave ${res.status}`);
      return res.body.error;
    };
    assert.equal((await bad("POST", "/v1/journal/entries", { content: "" })).code, "validation_failed");
    const blank = await bad("POST", "/v1/journal/entries", { content: " \n\t " });
    assert.equal(blank.details.fields[0].field, "body.content");
    assert.equal(
      (await bad("POST", "/v1/journal/entries", { content: "x", moodScore: 1.5 })).details.fields[0].field,
      "body.moodScore",
    );
    assert.equal((await bad("POST", "/v1/journal/entries", { content: "x", moodScore: -2 })).code, "validation_failed");
    assert.equal(
      (await bad("POST", "/v1/journal/entries", { content: "x", entryDate: "2026-02-30" })).code,
      "validation_failed",
    );
    assert.equal(
      (await bad("POST", "/v1/journal/entries", { content: "x", entryDate: "yesterday" })).code,
      "validation_failed",
    );
    const unknownTopic = await bad("POST", "/v1/journal/entries", {
      content: "x",
      topicIds: ["00000000-0000-4000-8000-000000000000"],
    });
    assert.equal(unknownTopic.code, "topic_not_found");
    assert.equal((await bad("GET", "/v1/journal/entries?from=not-a-date")).code, "validation_failed");
    const { token: other } = await registerUser(call, "Other");
    const theirs = await write({ content: "Private thoughts." }, other);
    for (const path of ["", "/similar"]) {
      const res = await call("GET", `/v1/journal/entries/${theirs.id}${path}`, { token });
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, "journal_entry_not_found");
    }
    assert.equal(
      (await call("PATCH", `/v1/journal/entries/${theirs.id}`, { token, body: { content: "mine" } })).status,
      404,
    );
    assert.equal((await call("DELETE", `/v1/journal/entries/${theirs.id}`, { token })).status, 404);
    assert.equal((await call("GET", `/v1/journal/tasks/${theirs.analysisTaskId}`, { token })).status, 404);
    for (const q of ["the and of", "?!...", "a"]) {
      for (const url of [`/v1/journal/search?q=${encodeURIComponent(q)}`, `/v1/search?q=${encodeURIComponent(q)}`]) {
        const res = await call("GET", url, { token });
        assert.equal(res.status, 200, `${url}: ${JSON.stringify(res.body)}`);
        assert.deepEqual(res.body.items, []);
      }
    }
    assert.equal((await bad("GET", "/v1/journal/search?q=%20%20")).code, "validation_failed");
  });
});
