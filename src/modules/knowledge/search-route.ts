import { sql } from "kysely";
import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_CALLER, READ_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requirePrincipal } from "../../http/principal.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { Label, StringEnum } from "../../platform/schemas.ts";
import type { SearchResult } from "../../platform/search/hybrid-search.ts";
import { SearchResults } from "../../platform/search/schemas.ts";
import type { Candidate, SearchSource } from "../../platform/search/search-source.ts";
import type { Platform } from "../../runtime/platform.ts";
import { searchFromCopy } from "./copy-reads.ts";
import { KINDS } from "./kinds.ts";
import type { KnowledgeCopy } from "./knowledge-copy.ts";
import { KNOWLEDGE_KINDS, type KnowledgeKind } from "./schemas.ts";
import { knowledgeSearch } from "./search-sources.ts";
import { readOrCopy, STALE_HEADERS } from "./stale-reads.ts";

export const SEARCH_MODES = ["hybrid", "text"] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

const KIND_LIST = `^(${KNOWLEDGE_KINDS.join("|")})(,(${KNOWLEDGE_KINDS.join("|")}))*$`;

/** A source that answers by full text alone: no trigram candidates, no vectors. */
function textOnly(source: SearchSource): SearchSource {
  return {
    ...source,
    embedding: null,
    trigram: () => sql<Candidate>`select null::uuid as id, null::float8 as score where false`,
  };
}

/**
 * Knowledge search: rules, practices and templates the caller may read
 * (active ones only), by hybrid search (full text over the seed's indexed
 * title and description, trigram similarity to the title, and meaning), or
 * by the seed's full text alone (`mode=text`).
 */
export function searchKnowledge(
  platform: Platform,
  principal: Principal,
  q: string,
  options: { kinds?: readonly KnowledgeKind[]; mode: SearchMode; limit: number },
): Promise<SearchResult> {
  const kinds = new Set((options.kinds ?? KNOWLEDGE_KINDS).map((k) => `knowledge_${k}`));
  const sources = knowledgeSearch.filter((s) => kinds.has(s.kind));
  return platform.search.searchWith(principal, q, options.mode === "text" ? sources.map(textOnly) : sources, {
    limit: options.limit,
  });
}

export function registerKnowledgeSearchRoute(app: App, platform: Platform, copy: KnowledgeCopy) {
  app.get(
    "/knowledge/search",
    {
      schema: {
        tags: ["knowledge"],
        operationId: "searchKnowledge",
        summary: "Search rules, practices and templates by words, spelling and meaning (or by words alone)",
        security: BEARER,
        querystring: Type.Object(
          {
            q: Label(500, { description: 'What to look for: words, a "quoted phrase", -excluded words.' }),
            kinds: Type.Optional(
              Type.String({
                maxLength: 100,
                pattern: KIND_LIST,
                description: "Comma-separated kinds (`rule,practice,template`); all when absent.",
              }),
            ),
            mode: Type.Optional(
              StringEnum(SEARCH_MODES, {
                description: "`hybrid` (the default) fuses full text, trigram and vector; `text` is full text alone.",
              }),
            ),
            limit: Type.Integer({ minimum: 1, maximum: 50, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            ...described(
              SearchResults,
              "The best matches, best first. From the local copy (while the database is down), every query word must " +
                "appear in the title or description, ranked by how often.",
            ),
            headers: STALE_HEADERS,
          },
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request, reply) => {
      const { q, kinds, mode, limit } = request.query;
      const principal = requirePrincipal(request);
      const wanted = kinds !== undefined ? (kinds.split(",") as KnowledgeKind[]) : undefined;
      const result = await readOrCopy(
        copy,
        reply,
        () =>
          searchKnowledge(platform, principal, q, {
            ...(wanted ? { kinds: wanted } : {}),
            mode: mode ?? "hybrid",
            limit,
          }),
        (rows) =>
          searchFromCopy(
            rows,
            principal,
            KINDS.filter((k) => !wanted || wanted.includes(k.kind)),
            q,
            limit,
          ),
      );
      return { items: result.items, nextCursor: null, vector: result.vector };
    },
  );
}
