import { sql } from "kysely";
import type { Principal } from "../../platform/identity/principal.ts";
import {
  beforeCursor,
  decodeCursor,
  decodeRankCursor,
  encodeCursor,
  encodeRankCursor,
  type Page,
} from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { DOCUMENT_COLUMNS, normalizeTags } from "./documents.ts";
import { ownerColumn } from "./owner-scope.ts";
import type { ListedDocumentView } from "./schemas.ts";
import { documentView } from "./views.ts";

export interface ListFilters {
  q?: string;
  tags?: string[];
  archived?: "true" | "false" | "all";
  deleted?: boolean;
  limit: number;
  cursor?: string;
}

/**
 * The caller's documents, newest first, or with `q` the best matches first:
 * weighted full-text search (title A, description B, body C) with
 * highlighted snippets (from `document_search`, see search-index.ts). Filters: tags (all must match, served by the GIN
 * index), archived, and the trash (`deleted`). Reads go to the read pool.
 */
export async function listDocuments(
  platform: Platform,
  principal: Principal,
  filters: ListFilters,
): Promise<Page<ListedDocumentView>> {
  const db = platform.database.read;
  const owner = ownerColumn(principal);
  let query = db
    .selectFrom("documents")
    .select(DOCUMENT_COLUMNS)
    .where(`documents.${owner.column}`, "=", owner.value)
    .where("documents.deleted_at", filters.deleted ? "is not" : "is", null);
  if (owner.organizationId) query = query.where("documents.organization_id", "=", owner.organizationId);
  const archived = filters.archived ?? "false";
  if (archived !== "all") query = query.where("documents.is_archived", "=", archived === "true");
  if (filters.tags && filters.tags.length > 0) {
    query = query.where("documents.tags", "@>", sql<string[]>`${normalizeTags(filters.tags)}::text[]`);
  }

  if (filters.q?.trim()) {
    const tsquery = sql`websearch_to_tsquery('english', ${filters.q})`;
    // float8, so the rank survives a round trip through the cursor exactly.
    const rank = sql<number>`ts_rank_cd(document_search.search_vector, ${tsquery})::float8`;
    const after = decodeRankCursor(filters.cursor);
    let search = query
      .innerJoin("document_search", "document_search.document_id", "documents.id")
      .select([
        rank.as("rank"),
        sql<string>`ts_headline('english', documents.title, ${tsquery}, 'StartSel=<mark>, StopSel=</mark>, HighlightAll=true')`.as(
          "title_highlight",
        ),
        sql<string>`ts_headline('english', document_search.search_text, ${tsquery}, 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "')`.as(
          "snippet",
        ),
      ])
      .where(sql<boolean>`document_search.search_vector @@ ${tsquery}`);
    if (after) {
      search = search.where(
        sql<boolean>`(${rank} < ${after.rank} or (${rank} = ${after.rank} and documents.id > ${after.id}))`,
      );
    }
    const rows = await search
      .orderBy(sql`rank`, "desc")
      .orderBy("documents.id")
      .limit(filters.limit + 1)
      .execute();
    const items = rows.slice(0, filters.limit);
    const last = items.at(-1);
    return {
      items: items.map((r) => ({
        ...documentView(r),
        rank: Number(r.rank),
        highlights: { title: r.title_highlight, snippet: r.snippet },
      })),
      nextCursor: rows.length > filters.limit && last ? encodeRankCursor(Number(last.rank), last.id) : null,
    };
  }

  const after = decodeCursor(filters.cursor);
  if (after) query = query.where(beforeCursor(after, "documents.updated_at", "documents.id"));
  const rows = await query
    .orderBy("documents.updated_at", "desc")
    .orderBy("documents.id", "desc")
    .limit(filters.limit + 1)
    .execute();
  const items = rows.slice(0, filters.limit);
  const last = items.at(-1);
  return {
    items: items.map(documentView),
    nextCursor: rows.length > filters.limit && last ? encodeCursor({ at: last.updated_at, id: last.id }) : null,
  };
}
