import { type Static, Type } from "typebox";
import { Nullable, StringEnum, Uuid } from "../schemas.ts";

/** The shapes of cross-module search (`GET /v1/search`), declared once. */

const Signal = Nullable(
  Type.Object({
    score: Type.Number({
      description: "The signal's own score: ts_rank_cd, trigram word similarity, or cosine similarity.",
    }),
    rank: Type.Integer({ minimum: 1, description: "Its rank among that signal's candidates (1 is best)." }),
  }),
  { description: "Null when this signal did not find the result." },
);

/**
 * The kinds of resource search returns, one per source a module registers
 * (HybridSearch.register refuses a kind not listed): the API document
 * enumerates them, so clients can switch on them.
 */
export const SEARCH_KINDS = [
  "document",
  "journal_entry",
  "file_chunk",
  "knowledge_rule",
  "knowledge_practice",
  "knowledge_template",
] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

export const VECTOR_SIGNAL_STATES = ["used", "no_model_yet", "pgvector_not_installed"] as const;

export const SearchHit = Type.Object({
  module: Type.String({ description: "The module the result belongs to, e.g. `journal` or `writing`." }),
  kind: StringEnum(SEARCH_KINDS, { description: "The kind of resource." }),
  id: Uuid,
  title: Nullable(Type.String()),
  snippet: Type.String({
    description: "Matching passages with `<mark>` around the query's words, or the text's start.",
  }),
  url: Type.String({ description: "The resource in the API." }),
  score: Type.Number({ description: "Reciprocal rank fusion: the sum over signals of 1 / (60 + rank)." }),
  signals: Type.Object({ fullText: Signal, trigram: Signal, vector: Signal }),
});

export const SearchResults = Type.Object({
  items: Type.Array(SearchHit),
  nextCursor: Type.Null({ description: "Always null: a fused ranking is answered as one page of the best results." }),
  vector: StringEnum(VECTOR_SIGNAL_STATES, {
    description:
      "Whether vector similarity took part: `used`; `no_model_yet` (the first vectors are still being made); `pgvector_not_installed` (this Postgres server lacks the extension; words alone answered).",
  }),
});

export type SearchHitView = Static<typeof SearchHit>;
