import { type RawBuilder, sql } from "kysely";
import type { Principal } from "./principal.ts";

/**
 * Ownership, decided in every query: a user (or an API key acting for one)
 * owns rows by user_id, an anonymous session by anonymous_session_id. A row
 * that fails this filter does not exist for the caller (404).
 */
export function ownerColumn(principal: Principal): {
  column: "user_id" | "anonymous_session_id";
  value: string;
  /** API keys act within their organization only: their reads are also filtered by it. */
  organizationId: string | null;
} {
  return principal.kind === "anonymous"
    ? { column: "anonymous_session_id", value: principal.sessionId, organizationId: null }
    : {
        column: "user_id",
        value: principal.userId,
        organizationId: principal.kind === "api_key" ? principal.organizationId : null,
      };
}

/**
 * The same filter as a raw SQL condition, for queries written in SQL (search
 * candidates, analytics): the owner's column on `alias` (the table's own
 * name when absent), and the organization for an API key.
 */
export function ownerCondition(principal: Principal, alias?: string): RawBuilder<boolean> {
  const owner = ownerColumn(principal);
  const column = (name: string) => sql.ref(alias ? `${alias}.${name}` : name);
  const org = owner.organizationId ? sql` and ${column("organization_id")} = ${owner.organizationId}` : sql``;
  return sql<boolean>`${column(owner.column)} = ${owner.value}${org}`;
}
