import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { decodeCursor, type Page, toPage } from "../../platform/pagination.ts";
import type { SearchHit, SearchResult } from "../../platform/search/hybrid-search.ts";
import type { EntryFilters } from "./entries.ts";
import type { AnyKind } from "./kinds.ts";
import type { CopiedRow } from "./knowledge-copy.ts";
import type { KnowledgeKind } from "./schemas.ts";

/**
 * Knowledge reads answered from the local copy (knowledge-copy.ts) while
 * the database is down: the same access rules (the system's entries and
 * the caller's organization's), the same filters, order and cursors as the
 * database's lists, so a client paging through a list can carry on. Search
 * is degraded: every query word must appear in the title or description,
 * ranked by how often; the routes mark every such answer as stale.
 */

type Row = CopiedRow["row"];

function readable(principal: Principal, row: Row): boolean {
  return row.organization_id === null || row.organization_id === principal.organizationId;
}

function rowsOf(rows: readonly CopiedRow[], kind: KnowledgeKind): Row[] {
  return rows.filter((r) => r.kind === kind).map((r) => r.row);
}

const byCreated = (a: Row, b: Row) =>
  a.created_at.getTime() - b.created_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function listFromCopy<View>(
  rows: readonly CopiedRow[],
  principal: Principal,
  spec: AnyKind,
  filters: EntryFilters,
  page: { limit: number; cursor?: string },
): Page<View> {
  const after = decodeCursor(page.cursor);
  const category = filters.category?.trim().toLowerCase();
  const tag = filters.tag?.trim().toLowerCase();
  const matching = rowsOf(rows, spec.kind)
    .filter((row) => readable(principal, row) && row[spec.activeColumn] === filters.active)
    .filter((row) => category === undefined || row.category === category)
    .filter((row) => tag === undefined || (row.tags as string[]).includes(tag))
    .filter((row) => filters.system === undefined || (row.organization_id === null) === filters.system)
    .filter((row) => Object.entries(filters.columns ?? {}).every(([column, value]) => row[column] === value))
    .filter(
      (row) =>
        !after ||
        row.created_at.getTime() > after.at.getTime() ||
        (row.created_at.getTime() === after.at.getTime() && row.id > after.id),
    )
    .sort(byCreated)
    .slice(0, page.limit + 1);
  return toPage(matching, page.limit, (r) => ({ at: r.created_at, id: r.id }), spec.view);
}

export function getFromCopy<View>(rows: readonly CopiedRow[], principal: Principal, spec: AnyKind, id: string): View {
  const row = rowsOf(rows, spec.kind).find((r) => r.id === id);
  if (!row || !readable(principal, row)) throw errors.knowledgeEntryNotFound(spec.kind, id);
  return spec.view(row);
}

const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

export function searchFromCopy(
  rows: readonly CopiedRow[],
  principal: Principal,
  kinds: readonly AnyKind[],
  q: string,
  limit: number,
): SearchResult {
  const wanted = [...new Set(words(q))];
  if (wanted.length === 0) return { items: [], vector: "used" };
  const hits: (SearchHit & { count: number })[] = [];
  for (const spec of kinds) {
    for (const row of rowsOf(rows, spec.kind)) {
      if (!readable(principal, row) || !row[spec.activeColumn]) continue;
      const title = String(row[spec.titleColumn]);
      const text = words(`${title} ${row.description ?? ""}`);
      if (!wanted.every((w) => text.includes(w))) continue;
      const count = text.filter((w) => wanted.includes(w)).length;
      hits.push({
        module: "knowledge",
        kind: `knowledge_${spec.kind}` as SearchHit["kind"],
        id: row.id,
        title,
        snippet: String(row.description ?? "").slice(0, 200),
        url: `/v1/knowledge/${spec.plural}/${row.id}`,
        score: 0,
        signals: { fullText: null, trigram: null, vector: null },
        count,
      });
    }
  }
  hits.sort((a, b) => b.count - a.count || (a.id < b.id ? -1 : 1));
  const items = hits.slice(0, limit).map(({ count, ...hit }, i) => ({
    ...hit,
    score: count,
    signals: { fullText: { score: count, rank: i + 1 }, trigram: null, vector: null },
  }));
  return { items, vector: "used" };
}
