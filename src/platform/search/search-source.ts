import type { Expression, Kysely, RawBuilder } from "kysely";
import type { Tables } from "../database/tables.ts";
import type { EmbeddingSource } from "../embeddings/embedding-sources.ts";
import type { Principal } from "../identity/principal.ts";
import type { SearchKind } from "./schemas.ts";

/** A candidate query's rows: the resource and its score for one signal. */
export interface Candidate {
  id: string;
  score: number;
}

/** What a search result shows of a resource. */
export interface SearchDisplay {
  title: string | null;
  /** Matching passages with `<mark>` around the query's words (ts_headline), or the text's start. */
  snippet: string;
  /** The resource's path in the API, e.g. `/v1/journal/entries/{id}`. */
  url: string;
}

/**
 * Something a module makes searchable across modules (`GET /v1/search`):
 * how to find the caller's resources by each signal, and how to show one.
 * Every candidate query filters by the caller first (the `principal`'s
 * rows only), so ranking only ever sees what the caller may see.
 */
export interface SearchSource {
  /** The module results name, e.g. "journal". */
  module: string;
  /** The resource kind results name; unique across sources, and listed in SEARCH_KINDS. */
  kind: SearchKind;
  /** Its vectors (platform/embeddings), or null for a source searched by words only. */
  embedding: EmbeddingSource | null;
  /** Resources the principal may see: a condition on a resource id expression (vector candidates use it). */
  visible(principal: Principal, id: RawBuilder<string>): Expression<boolean>;
  /**
   * Full-text candidates: `select id, score` (ts_rank_cd over the source's
   * weighted tsvector), matching `tsquery`, best first, at most `limit`.
   */
  fullText(principal: Principal, tsquery: RawBuilder<unknown>, limit: number): RawBuilder<Candidate>;
  /** Trigram candidates: `select id, score` (word similarity of the query to the text), best first, at most `limit`. */
  trigram(principal: Principal, text: string, limit: number): RawBuilder<Candidate>;
  /** Titles, snippets and links of these resources (the caller's, already checked). */
  describe(
    db: Kysely<Tables>,
    ids: readonly string[],
    tsquery: RawBuilder<unknown>,
  ): Promise<Map<string, SearchDisplay>>;
}
