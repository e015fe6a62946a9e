/**
 * The knowledge module's benchmarks.
 *
 * knowledge-cache: seed 004's two-tier cache under a skewed (Zipf, s = 1)
 * access pattern over 5,000 entries, the hot tier bounded well below the
 * working set (so the warm tier matters): each tier's hit ratio beside the
 * seed's 90% target, and read latency beside the same reads from the
 * database with no cache (the peer). Run with the in-process store and
 * with Redis as the warm tier.
 *
 * knowledge-search: /v1/knowledge/search's service over 10,000 entries plus
 * the starter data, hybrid and full text, p50 and p95, beside the seed's own
 * full-text query in plain SQL (the peer).
 */
import { sql } from "kysely";
import { getEntry } from "../src/modules/knowledge/entries.ts";
import { knowledgeModule } from "../src/modules/knowledge/index.ts";
import { RULE_SOURCE, rules } from "../src/modules/knowledge/kinds.ts";
import { searchKnowledge } from "../src/modules/knowledge/search-route.ts";
import { loadStarterData } from "../src/modules/knowledge/starter-data.ts";
import { wireModules } from "../src/runtime/module-wiring.ts";
import { services } from "../test/support/services.ts";
import { embedWithHashing } from "./hashing-embed.ts";
import { type Backend, openBackend } from "./search.ts";
import { generator, journalCorpus, percentile, queryWords } from "./search-corpus.ts";

const CACHE_ENTRIES = Number(process.env.BENCH_KNOWLEDGE_ENTRIES ?? 5_000);
const CACHE_READS = Number(process.env.BENCH_KNOWLEDGE_READS ?? 60_000);
const PEER_READS = 10_000;
const SEARCH_ENTRIES = Number(process.env.BENCH_KNOWLEDGE_SEARCH_ENTRIES ?? 10_000);
const SEARCH_QUERIES = 200;

/** Rules of the backend's organization, from the corpus's real prose; their ids, in insertion order. */
async function loadRules(backend: Backend, count: number, seed: number): Promise<string[]> {
  const { db } = backend.platform.database;
  const corpus = journalCorpus(count, seed);
  const ids: string[] = [];
  for (let i = 0; i < corpus.length; i += 500) {
    const rows = await db
      .insertInto("knowledge_rules")
      .values(
        corpus.slice(i, i + 500).map((e, j) => ({
          rule_id: `bench-${i + j}`,
          organization_id: backend.principal.organizationId,
          category: ["typescript", "postgres", "node", "security", "api"][(i + j) % 5] as string,
          title: e.title.slice(0, 255),
          description: e.content,
          severity: "WARNING" as const,
          enforcement: "recommended" as const,
          tags: JSON.stringify([]),
          examples: JSON.stringify([{ code: "const x = await load();", language: "typescript" }]),
        })),
      )
      .returning("id")
      .execute();
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

/** Ranks 0..n-1 drawn with probability proportional to 1 / (rank + 1)^s, by inverse CDF. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  return () => {
    const u = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const stats = (samples: number[]) =>
  `p50 ${percentile(samples, 0.5).toFixed(3)} ms  p95 ${percentile(samples, 0.95).toFixed(3)} ms  p99 ${percentile(samples, 0.99).toFixed(3)} ms`;

async function cacheRun(label: string, env: Record<string, string>) {
  const backend = await openBackend("pglite", [knowledgeModule], {
    // About 600 of the 5,000 entries fit the hot tier; the warm tier holds them all.
    KNOWLEDGE_CACHE_HOT_BYTES: String(2 * 1024 * 1024),
    KNOWLEDGE_CACHE_WARM_BYTES: String(64 * 1024 * 1024),
    ...env,
  });
  try {
    const { platform, principal } = backend;
    const ids = await loadRules(backend, CACHE_ENTRIES, 7);
    // The popular entries are any of them, not the first inserted.
    const random = generator(19);
    const order = [...ids].sort(() => random() - 0.5);
    const draw = zipf(order.length, 1, generator(23));
    const latencies: number[] = [];
    for (let i = 0; i < CACHE_READS; i++) {
      const id = order[draw()] as string;
      const started = performance.now();
      await getEntry(platform, principal, rules, id);
      latencies.push(performance.now() - started);
    }
    const cache = platform.caches.tiered.cache("knowledge", {
      hotBytes: 0,
      warmBytes: 0,
      ttlMs: 0,
    });
    const hot = cache.hitRatio("hot");
    const warm = cache.hitRatio("warm");
    const overall = hot + (1 - hot) * warm;
    console.log(
      `  ${label.padEnd(26)} hit ratio: hot ${(hot * 100).toFixed(1)}%, warm ${(warm * 100).toFixed(1)}% of hot misses, both ${(overall * 100).toFixed(1)}% (seed 004's target: 90%); hot tier holds ${(cache.hotBytes / 1024 / 1024).toFixed(1)} MiB`,
    );
    console.log(`  ${"".padEnd(26)} strata read through the cache  ${stats(latencies)}  (${CACHE_READS} reads)`);
    const peer: number[] = [];
    const peerDraw = zipf(order.length, 1, generator(23));
    for (let i = 0; i < PEER_READS; i++) {
      const id = order[peerDraw()] as string;
      const started = performance.now();
      const row = await platform.database.read
        .selectFrom("knowledge_rules")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      rules.view(row);
      peer.push(performance.now() - started);
    }
    console.log(`  ${"".padEnd(26)} peer: the database, no cache    ${stats(peer)}  (${PEER_READS} reads)`);
  } finally {
    await backend.dispose();
  }
}

export async function runKnowledgeCacheBench() {
  console.log(
    `  ${CACHE_ENTRIES} rules, ${CACHE_READS} reads drawn by Zipf (s = 1); hot tier 2 MiB, warm tier 64 MiB (development machine, 2 cores)`,
  );
  await cacheRun("embedded (in-process KV)", {});
  await cacheRun("warm tier in Redis", { REDIS_URL: services.redisUrl, KV_KEY_PREFIX: `bench:${Date.now()}:` });
}

/** Every rule embedded by the offline model through Strata's write path, as the search bench does for entries. */
async function embedRules(backend: Backend): Promise<void> {
  const { db } = backend.platform.database;
  await embedWithHashing(db, RULE_SOURCE, async (after) => {
    let page = db.selectFrom("knowledge_rules").selectAll().orderBy("id").limit(500);
    if (after) page = page.where("id", ">", after);
    return (await page.execute()).map((r) => ({ id: r.id, text: rules.embedText(r) }));
  });
  await db.deleteFrom("embedding_outbox").execute();
}

export async function runKnowledgeSearchBench() {
  console.log(
    `  ${SEARCH_ENTRIES} rules of prose plus the starter data; ${SEARCH_QUERIES} queries (development machine, 2 cores)`,
  );
  const backend = await openBackend("pglite", [knowledgeModule]);
  try {
    const { platform, principal } = backend;
    wireModules(platform, [knowledgeModule]);
    await loadStarterData(platform);
    await loadRules(backend, SEARCH_ENTRIES, 31);
    await embedRules(backend);
    await sql`analyze`.execute(platform.database.db);
    const queries = queryWords(journalCorpus(5_000, 31), SEARCH_QUERIES);
    for (const q of queries.slice(0, 10)) await searchKnowledge(platform, principal, q, { mode: "hybrid", limit: 20 });
    const time = async (run: (q: string) => Promise<unknown>) => {
      const samples: number[] = [];
      let found = 0;
      for (const q of queries) {
        const started = performance.now();
        const result = (await run(q)) as { items?: unknown[] } | unknown[];
        samples.push(performance.now() - started);
        if ((Array.isArray(result) ? result : (result.items ?? [])).length > 0) found++;
      }
      return `p50 ${percentile(samples, 0.5).toFixed(2).padStart(6)} ms  p95 ${percentile(samples, 0.95).toFixed(2).padStart(6)} ms  (${found}/${queries.length} found something)`;
    };
    const hybrid = await time((q) => searchKnowledge(platform, principal, q, { mode: "hybrid", limit: 20 }));
    console.log(`  strata hybrid (full text, trigram, vector)   ${hybrid}`);
    const text = await time((q) => searchKnowledge(platform, principal, q, { mode: "text", limit: 20 }));
    console.log(`  strata full text (mode=text)                 ${text}`);
    const peer = await time(
      async (q) =>
        (
          await sql`
            select id, ts_rank(to_tsvector('english', title || ' ' || description), websearch_to_tsquery('english', ${q})) as rank
            from knowledge_rules
            where to_tsvector('english', title || ' ' || description) @@ websearch_to_tsquery('english', ${q})
              and active and (organization_id is null or organization_id = ${principal.organizationId})
            order by rank desc limit 20`.execute(platform.database.read)
        ).rows,
    );
    console.log(`  peer: the seed's full-text query in SQL      ${peer}`);
  } finally {
    await backend.dispose();
  }
}
