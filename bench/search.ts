/**
 * Journal search at scale: BENCH_ENTRIES entries (default 100,000) of one
 * writer, the largest account a journal serves, so every query ranks over
 * all of them (a smaller account is a subset of this work).
 *
 * On the Postgres server and on PGlite, BENCH_QUERIES queries (default 200)
 * each of:
 *   full text  Strata's searchEntries (the route's work below HTTP: the
 *              stop-word pre-check, the scoped weighted query, ts_headline
 *              snippets, mapping) beside seed 002's weighted query written
 *              as raw SQL against the same stored tsvector and GIN index;
 *   trigram    Strata's listTopics with `match` beside seed 002's fuzzy
 *              topic query as raw SQL, over BENCH_TOPICS topics (default
 *              2,000) and misspelled words;
 *   hybrid     Strata's hybrid search (full text, trigram and vector fused),
 *              for the record (no raw peer: it is Strata's own query).
 * Strata and raw SQL alternate query by query, so caches warm both alike.
 * Goal: Strata within 1.2x of raw SQL.
 *
 * Then on PGlite, vectors: every entry embedded by the offline model (384
 * dimensions), stored through Strata's write path with its partial HNSW
 * index, and BENCH_VECTOR_QUERIES (default 100) similar-entries queries
 * (Strata's similarEntries, the caller's entries nearest an entry) answered
 * through the index and by an exact scan (the same query with index scans
 * disabled). Reported: recall@10 of the index against the exact answer, and
 * queries per second of each. Goal: recall@10 >= 0.95 at >= 10x the exact
 * scan's queries per second.
 */

import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { ENTRY_SOURCE, entryText } from "../src/modules/journal/entry-text.ts";
import { journalModule } from "../src/modules/journal/index.ts";
import { searchEntries, similarEntries } from "../src/modules/journal/search.ts";
import { listTopics } from "../src/modules/journal/topics.ts";
import { writingModule } from "../src/modules/writing/index.ts";
import { HASHING_MODEL } from "../src/platform/embeddings/hashing-vectors.ts";
import type { Principal } from "../src/platform/identity/principal.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import type { StrataModule } from "../src/runtime/module.ts";
import { openPlatform, type Platform } from "../src/runtime/platform.ts";
import { client } from "../test/support/http.ts";
import { createScratchDatabase } from "../test/support/postgres.ts";
import { registerUser } from "../test/support/writing-fixtures.ts";
import { embedWithHashing } from "./hashing-embed.ts";
import { type CorpusEntry, generator, journalCorpus, misspell, percentile, queryWords } from "./search-corpus.ts";

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const TOPICS = Number(process.env.BENCH_TOPICS ?? 2_000);
const VECTOR_QUERIES = Number(process.env.BENCH_VECTOR_QUERIES ?? 100);
const WARMUP = 10;
const modules = [writingModule, journalModule];

export interface Backend {
  name: "postgres" | "pglite";
  platform: Platform;
  principal: Principal;
  dispose(): Promise<void>;
}

export async function openBackend(
  name: Backend["name"],
  using: readonly StrataModule[] = modules,
  env: Record<string, string> = {},
): Promise<Backend> {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-search-"));
  const scratch = name === "postgres" ? await createScratchDatabase() : null;
  const config = loadConfig({
    STRATA_DATA_DIR: dir,
    LOG_LEVEL: "silent",
    DATABASE_STATEMENT_TIMEOUT_MS: "600000",
    ...(scratch ? { DATABASE_URL: scratch.url, STRATA_SIGNING_SECRET: "bench-signing-secret-for-strata-search" } : {}),
    ...env,
  });
  const platform = await openPlatform(config, { logger: createLogger("silent") });
  await createMigrator(platform.database, using).up();
  const app = await buildServer(platform, using);
  const { id: userId } = await registerUser(client(app), "Bencher");
  await app.close();
  const user = await platform.database.db
    .selectFrom("users")
    .select("personal_organization_id")
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  const principal: Principal = {
    kind: "user",
    userId,
    sessionId: randomUUID(),
    organizationId: user.personal_organization_id,
    role: "owner",
  };
  return {
    name,
    platform,
    principal,
    async dispose() {
      await platform.close();
      await scratch?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function load(
  backend: Backend,
  corpus: readonly CorpusEntry[],
  topics: readonly string[],
): Promise<number> {
  const { db } = backend.platform.database;
  const { principal } = backend;
  if (principal.kind !== "user") throw new Error("a user's account");
  const started = performance.now();
  for (let i = 0; i < corpus.length; i += 500) {
    await db
      .insertInto("journal_entries")
      .values(
        corpus.slice(i, i + 500).map((e) => ({
          user_id: principal.userId,
          anonymous_session_id: null,
          organization_id: principal.organizationId,
          title: e.title,
          content: e.content,
          entry_date: e.entryDate,
        })),
      )
      .execute();
  }
  for (let i = 0; i < topics.length; i += 500) {
    await db
      .insertInto("topics")
      .values(topics.slice(i, i + 500).map((name) => ({ name, description: null, user_id: principal.userId })))
      .execute();
  }
  // What each entry's write adds to the vocabulary typo-tolerant search corrects against (entries.ts).
  await sql`
    insert into journal_lexemes (lexeme)
    select distinct u.lexeme from journal_entries e, unnest(e.content_vector) u
    on conflict do nothing`.execute(db);
  await sql`analyze journal_entries`.execute(db);
  await sql`analyze journal_lexemes`.execute(db);
  await sql`analyze topics`.execute(db);
  return performance.now() - started;
}

/** Strata and raw SQL in turn for each query (the order alternating); latencies of each after a warm-up. */
async function compare(
  queries: readonly string[],
  strata: (q: string) => Promise<unknown>,
  raw: (q: string) => Promise<unknown>,
): Promise<{ strata: number[]; raw: number[] }> {
  const result = { strata: [] as number[], raw: [] as number[] };
  const time = async (run: () => Promise<unknown>) => {
    const t = performance.now();
    await run();
    return performance.now() - t;
  };
  for (const [i, q] of queries.entries()) {
    const pair =
      i % 2 === 0
        ? [await time(() => strata(q)), await time(() => raw(q))]
        : [await time(() => raw(q)), await time(() => strata(q))].reverse();
    if (i < WARMUP) continue;
    result.strata.push(pair[0] as number);
    result.raw.push(pair[1] as number);
  }
  return result;
}

function report(backend: string, what: string, samples: { strata: number[]; raw: number[] }) {
  const s50 = percentile(samples.strata, 0.5);
  const s95 = percentile(samples.strata, 0.95);
  const r50 = percentile(samples.raw, 0.5);
  const r95 = percentile(samples.raw, 0.95);
  console.log(
    `${backend.padEnd(8)} ${what.padEnd(10)} strata p50 ${s50.toFixed(2).padStart(7)} ms  p95 ${s95.toFixed(2).padStart(7)} ms | ` +
      `raw SQL p50 ${r50.toFixed(2).padStart(7)} ms  p95 ${r95.toFixed(2).padStart(7)} ms | ` +
      `ratio p50 ${(s50 / r50).toFixed(2)}x  p95 ${(s95 / r95).toFixed(2)}x`,
  );
}

async function textSearch(backend: Backend, queries: readonly string[], misspelled: readonly string[]) {
  const { platform, principal } = backend;
  const db = platform.database.read;
  if (principal.kind !== "user") throw new Error("a user's account");
  const fullText = await compare(
    queries,
    (q) => searchEntries(platform, principal, q, 20),
    (q) =>
      sql`
        select e.id, e.title, ts_rank_cd(e.content_vector, q) as rank,
          ts_headline('english', e.content, q, 'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=3') as snippet
        from journal_entries e, websearch_to_tsquery('english', ${q}) q
        where e.user_id = ${principal.userId} and e.content_vector @@ q
        order by rank desc
        limit 20`.execute(db),
  );
  report(backend.name, "full text", fullText);
  const trigram = await compare(
    misspelled,
    (q) => listTopics(platform, principal, q),
    (q) =>
      sql`
        select t.name, similarity(t.name, ${q}) as sim_score
        from topics t
        where (t.is_system_topic or t.user_id = ${principal.userId})
          and (t.name % ${q} or similarity(t.name, ${q}) > 0.3)
        order by sim_score desc
        limit 10`.execute(db),
  );
  report(backend.name, "trigram", trigram);
  const hybrid: number[] = [];
  let vector = "";
  for (const [i, q] of queries.entries()) {
    const t = performance.now();
    vector = (await platform.search.search(principal, q, { kinds: ["journal_entry"], limit: 20 })).vector;
    if (i >= WARMUP) hybrid.push(performance.now() - t);
  }
  console.log(
    `${backend.name.padEnd(8)} ${"hybrid".padEnd(10)} strata p50 ${percentile(hybrid, 0.5).toFixed(2).padStart(7)} ms  p95 ${percentile(hybrid, 0.95).toFixed(2).padStart(7)} ms (full text, trigram and vector fused; vector: ${vector})`,
  );
}

/** Every entry embedded by the offline model and written through Strata's write path, its HNSW index kept as it goes. */
async function embedAll(backend: Backend): Promise<string[]> {
  const { platform } = backend;
  const { db } = platform.database;
  const started = performance.now();
  const { ids, dims } = await embedWithHashing(db, ENTRY_SOURCE, async (after) => {
    let page = db.selectFrom("journal_entries").select(["id", "title", "content"]).orderBy("id").limit(500);
    if (after) page = page.where("id", ">", after);
    return (await page.execute()).map((r) => ({ id: r.id, text: entryText(r.title, r.content) }));
  });
  await sql`analyze embeddings`.execute(db);
  console.log(
    `${backend.name.padEnd(8)} vectors: ${ids.length} embedded (${HASHING_MODEL}, ${dims} dims) and written with the HNSW index in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );

  return ids;
}

async function similarSearch(backend: Backend, ids: readonly string[]) {
  const { platform, principal } = backend;
  const { db } = platform.database;
  const random = generator(23);
  const probes = Array.from({ length: VECTOR_QUERIES }, () => ids[Math.floor(random() * ids.length)] as string);
  const similar = (id: string) => similarEntries(platform, principal, id, { limit: 10, minSimilarity: -1 });
  const run = async () => {
    const answers: string[][] = [];
    const times: number[] = [];
    for (const id of probes) {
      const t = performance.now();
      const { items } = await similar(id);
      times.push(performance.now() - t);
      answers.push(items.map((item) => item.id));
    }
    return { answers, times };
  };
  await similar(probes[0] as string);
  const indexed = await run();
  // One connection (PGlite): the setting holds for the next queries, which then scan every vector.
  await sql`set enable_indexscan = off`.execute(db);
  const exact = await run();
  await sql`reset enable_indexscan`.execute(db);
  let found = 0;
  let expected = 0;
  for (const [i, truth] of exact.answers.entries()) {
    const got = new Set(indexed.answers[i]);
    expected += truth.length;
    found += truth.filter((id) => got.has(id)).length;
  }
  const qps = (times: number[]) => 1000 / (times.reduce((a, b) => a + b, 0) / times.length);
  console.log(
    `${backend.name.padEnd(8)} similar   HNSW ${qps(indexed.times).toFixed(1)} q/s (p50 ${percentile(indexed.times, 0.5).toFixed(2)} ms) | ` +
      `exact scan ${qps(exact.times).toFixed(1)} q/s (p50 ${percentile(exact.times, 0.5).toFixed(2)} ms) | ` +
      `${(qps(indexed.times) / qps(exact.times)).toFixed(1)}x, recall@10 ${(found / expected).toFixed(3)}`,
  );
}

export async function runSearchBench() {
  const corpus = journalCorpus(ENTRIES);
  const queries = queryWords(corpus, QUERIES + WARMUP);
  const random = generator(5);
  // Topics named by the corpus's words (four letters or more), as a writer's topics come from their entries.
  const vocabulary = new Set<string>();
  for (const entry of corpus.slice(0, 20_000)) {
    for (const word of entry.content.toLowerCase().match(/[a-z]{4,}/g) ?? []) vocabulary.add(word);
  }
  const shuffled = [...vocabulary].sort();
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string];
  }
  const topicNames = shuffled.slice(0, TOPICS);
  // What a writer types to find one of them: a topic's name with a letter dropped.
  const misspelled = queries.map(() =>
    misspell(topicNames[Math.floor(random() * topicNames.length)] as string, random),
  );
  const words = corpus.reduce((n, e) => n + e.content.split(" ").length, 0);
  console.log(
    `${ENTRIES} entries of one writer (${Math.round(words / ENTRIES)} words each on average, real prose recombined), ` +
      `${topicNames.length} topics, ${QUERIES} queries after ${WARMUP} to warm up`,
  );
  for (const name of ["postgres", "pglite"] as const) {
    let backend: Backend;
    try {
      backend = await openBackend(name);
    } catch (error) {
      console.log(`${name.padEnd(8)} not measured: ${(error as Error).message}`);
      continue;
    }
    try {
      const ms = await load(backend, corpus, topicNames);
      console.log(`${name.padEnd(8)} loaded in ${(ms / 1000).toFixed(0)} s`);
      const vectors = (await backend.platform.vectors.support()).available;
      // Embedded first, so hybrid search is measured with all three signals where it has them.
      const ids = vectors ? await embedAll(backend) : [];
      await textSearch(backend, queries, misspelled);
      if (vectors) await similarSearch(backend, ids);
      else console.log(`${name.padEnd(8)} vectors: not measured (no pgvector on this server)`);
    } finally {
      await backend.dispose();
    }
  }
}
