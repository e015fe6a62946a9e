import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import type { QueryVector, VectorStore } from "../embeddings/vector-store.ts";
import type { Principal } from "../identity/principal.ts";
import type { SearchKind } from "./schemas.ts";
import type { SearchDisplay, SearchSource } from "./search-source.ts";

/** Reciprocal rank fusion's constant (Cormack et al. 2009): a result's signal adds 1 / (RRF_K + its rank). */
export const RRF_K = 60;
/** Candidates each signal contributes before fusion. */
const CANDIDATES = 50;

/** One signal's view of a result: its own score and its rank among that signal's candidates (1 is best). */
export interface SignalScore {
  score: number;
  rank: number;
}

export interface SearchHit extends SearchDisplay {
  module: string;
  kind: SearchKind;
  id: string;
  /** The fused score: the sum over signals of 1 / (RRF_K + rank). */
  score: number;
  signals: { fullText: SignalScore | null; trigram: SignalScore | null; vector: SignalScore | null };
}

/** Whether the vector signal took part, and if not, why. */
export type VectorSignalState = "used" | "no_model_yet" | "pgvector_not_installed";

export interface SearchResult {
  items: SearchHit[];
  vector: VectorSignalState;
}

/**
 * Hybrid search over the sources modules register: weighted full text
 * (ts_rank_cd), trigram word similarity and vector similarity, each run as a
 * candidate query scoped to the caller, fused by reciprocal rank fusion in
 * one statement. Ranks are taken across all the sources searched, so a
 * journal entry and a document compete on one list. Without pgvector, or
 * before a source's first model is ready, the vector signal sits out (the
 * result says so) and the words still answer.
 */
export class HybridSearch {
  readonly #sources = new Map<string, SearchSource>();

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly vectors: VectorStore,
  ) {}

  register(source: SearchSource): void {
    if (this.#sources.has(source.kind)) throw new Error(`search source ${source.kind} is registered twice`);
    this.#sources.set(source.kind, source);
  }

  kinds(): string[] {
    return [...this.#sources.keys()];
  }

  /**
   * The caller's best `limit` matches for `text` among `kinds` (all sources
   * when absent). A query with no searchable words (only stop words or
   * punctuation) matches nothing.
   */
  search(
    principal: Principal,
    text: string,
    options: { kinds?: readonly string[]; limit: number; signal?: AbortSignal },
  ): Promise<SearchResult> {
    const sources = [...this.#sources.values()].filter((s) => !options.kinds || options.kinds.includes(s.kind));
    return this.searchWith(principal, text, sources, options);
  }

  /**
   * The same search over sources the caller gives rather than the
   * registered ones: a module's narrower view of its own resources (a
   * chat's retrieval within the files attached to it), ranked and fused the
   * same way. Each source still scopes to the caller.
   */
  async searchWith(
    principal: Principal,
    text: string,
    sources: readonly SearchSource[],
    options: { limit: number; signal?: AbortSignal },
  ): Promise<SearchResult> {
    const tsquery = sql`websearch_to_tsquery('english', ${text})`;
    if (sources.length === 0 || !(await hasSearchableWords(this.db, text))) {
      return { items: [], vector: "used" };
    }
    const { vectors, state } = await this.#queryVectors(sources, text, options.signal);
    const union = (parts: RawBuilder<unknown>[]) =>
      parts.length === 0
        ? sql`select null::text as kind, null::uuid as id, null::float8 as score where false`
        : sql.join(parts, sql` union all `);
    const fullText = union(
      sources.map(
        (s) =>
          sql`(select ${s.kind}::text as kind, c.id, c.score::float8 as score from (${s.fullText(principal, tsquery, CANDIDATES)}) c)`,
      ),
    );
    const trigram = union(
      sources.map(
        (s) =>
          sql`(select ${s.kind}::text as kind, c.id, c.score::float8 as score from (${s.trigram(principal, text, CANDIDATES)}) c)`,
      ),
    );
    const vector = union(
      sources.flatMap((s) => {
        const query = vectors.get(s.kind);
        if (!query || !s.embedding) return [];
        const nearest = this.vectors.nearestQuery(
          s.embedding.name,
          query,
          (id) => s.visible(principal, id),
          CANDIDATES,
        );
        return [
          sql`(select ${s.kind}::text as kind, c.resource_id as id, c.similarity::float8 as score from (${nearest}) c)`,
        ];
      }),
    );
    const ranked = (candidates: RawBuilder<unknown>) =>
      sql`select kind, id, score, row_number() over (order by score desc, id) as rank
        from (${candidates}) u order by score desc, id limit ${CANDIDATES}`;
    const rows = await sql<{
      kind: string;
      id: string;
      fts_score: number | null;
      fts_rank: string | null;
      trgm_score: number | null;
      trgm_rank: string | null;
      vec_score: number | null;
      vec_rank: string | null;
      fused: number;
    }>`
      with fts as (${ranked(fullText)}), trgm as (${ranked(trigram)}), vec as (${ranked(vector)}),
      keys as (select kind, id from fts union select kind, id from trgm union select kind, id from vec)
      select k.kind, k.id,
        fts.score as fts_score, fts.rank as fts_rank,
        trgm.score as trgm_score, trgm.rank as trgm_rank,
        vec.score as vec_score, vec.rank as vec_rank,
        (coalesce(1.0 / (${RRF_K} + fts.rank), 0) + coalesce(1.0 / (${RRF_K} + trgm.rank), 0)
          + coalesce(1.0 / (${RRF_K} + vec.rank), 0))::float8 as fused
      from keys k
      left join fts on fts.kind = k.kind and fts.id = k.id
      left join trgm on trgm.kind = k.kind and trgm.id = k.id
      left join vec on vec.kind = k.kind and vec.id = k.id
      order by fused desc, k.id
      limit ${options.limit}`.execute(this.db);
    const displays = new Map<string, Map<string, SearchDisplay>>();
    for (const source of sources) {
      const ids = rows.rows.filter((r) => r.kind === source.kind).map((r) => r.id);
      if (ids.length > 0) displays.set(source.kind, await source.describe(this.db, ids, tsquery));
    }
    const items: SearchHit[] = [];
    for (const row of rows.rows) {
      const source = sources.find((s) => s.kind === row.kind) as SearchSource;
      const display = displays.get(row.kind)?.get(row.id);
      if (!display) continue; // deleted between the two statements
      items.push({
        module: source.module,
        kind: source.kind,
        id: row.id,
        ...display,
        score: Number(row.fused),
        signals: {
          fullText: signal(row.fts_score, row.fts_rank),
          trigram: signal(row.trgm_score, row.trgm_rank),
          vector: signal(row.vec_score, row.vec_rank),
        },
      });
    }
    return { items, vector: state };
  }

  async #queryVectors(
    sources: readonly SearchSource[],
    text: string,
    signal: AbortSignal | undefined,
  ): Promise<{ vectors: Map<string, QueryVector>; state: VectorSignalState }> {
    const vectors = new Map<string, QueryVector>();
    const embedded = sources.filter((s) => s.embedding);
    if (embedded.length === 0) return { vectors, state: "no_model_yet" };
    if (!(await this.vectors.support()).available) return { vectors, state: "pgvector_not_installed" };
    for (const source of embedded) {
      const query = await this.vectors.queryVector((source.embedding as { name: string }).name, text, signal);
      if (query) vectors.set(source.kind, query);
    }
    return { vectors, state: vectors.size > 0 ? "used" : "no_model_yet" };
  }
}

/** Whether the text holds a word full-text search keeps (not only stop words or punctuation). */
export async function hasSearchableWords(db: Kysely<Tables>, text: string): Promise<boolean> {
  const { rows } = await sql<{
    nodes: number;
  }>`select numnode(websearch_to_tsquery('english', ${text})) as nodes`.execute(db);
  return Number(rows[0]?.nodes ?? 0) > 0;
}

function signal(score: number | null, rank: string | null): SignalScore | null {
  return score === null || rank === null ? null : { score: Number(score), rank: Number(rank) };
}
