import { Type } from "typebox";
import { Label } from "../../platform/schemas.ts";
import { SearchResults } from "../../platform/search/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { errorResponses, NEEDS_CALLER, READ_ROUTE } from "../error-responses.ts";
import { BEARER, described } from "../openapi.ts";
import { requirePrincipal } from "../principal.ts";

/**
 * /v1/search: everything the caller may see, across modules (documents,
 * journal entries; files and knowledge as their modules arrive), ranked by
 * hybrid search (platform/search).
 */
export function registerSearchRoutes(app: App, platform: Platform) {
  app.get(
    "/search",
    {
      schema: {
        tags: ["search"],
        operationId: "search",
        summary: "Search everything the caller may see, by words, spelling and meaning together",
        security: BEARER,
        querystring: Type.Object(
          {
            q: Label(500, { description: 'What to look for: words, a "quoted phrase", -excluded words.' }),
            kinds: Type.Optional(
              Type.String({
                maxLength: 200,
                description: "Comma-separated kinds to search (e.g. `journal_entry,document`); all when absent.",
              }),
            ),
            limit: Type.Integer({ minimum: 1, maximum: 50, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: described(SearchResults, "The best results across modules."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { q, kinds, limit } = request.query;
      const wanted = kinds
        ?.split(",")
        .map((k) => k.trim())
        .filter(Boolean);
      const result = await platform.search.search(principal, q, { kinds: wanted, limit });
      return { items: result.items, nextCursor: null, vector: result.vector };
    },
  );
}
