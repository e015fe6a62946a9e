import { CompiledQuery } from "kysely";
import { preparedStatement } from "../../platform/database/prepared-statements.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { documentGenerations } from "./document-generations.ts";
import { documentRowCache, rowCacheKey, shareRow } from "./document-row-cache.ts";
import { DOCUMENT_COLUMNS, type DocumentRow, touchDocument } from "./documents.ts";
import { ownerColumn } from "./owner-scope.ts";

/**
 * GET /v1/documents/:id in one database round trip: the ownership check is
 * in the statement that reads the row (a row another owner holds matches
 * nothing: 404), and the row says when the document was last touched, so
 * the touch (a second, conditional statement) is sent only when that is more
 * than a minute ago: once a minute per document at most, and never for a
 * read that is refused.
 *
 * A single statement with the touch as a data-modifying CTE was measured
 * first: it makes every read plan and run an UPDATE that almost always
 * matches nothing, which cost PGlite about 60% more per read than the plain
 * SELECT; the conditional touch keeps its own "older than a minute" guard, so
 * concurrent reads at the minute's turn still write once.
 *
 * The statement text depends only on who is asking (a user, an API key that
 * is also held to its organization, or an anonymous session), so its three
 * forms are written once and sent with parameters: no query building or
 * compiling per request, and on Postgres they are named prepared statements
 * (planned once per connection).
 *
 * Usually the row comes from this process's memory and no statement is sent:
 * on the embedded profile from the row cache the database invalidates
 * (document-row-cache.ts), on the server profile from the row cache checked
 * against the document's generation, which the admission round trip brought
 * (document-generations.ts; `generation` is 0 when there is none to trust).
 * A cached row is loaded by id alone and held to exactly the statement's
 * conditions here, for every request.
 */
const TOUCH_AFTER_MS = 60_000;

/** The document row by id; the owner's conditions are appended to it. */
function byIdStatement(): string {
  return `select ${DOCUMENT_COLUMNS.map((c) => c.slice("documents.".length)).join(", ")} from documents where id = $1`;
}

function statement(owner: "user_id" | "anonymous_session_id", byOrganization: boolean): string {
  return `${byIdStatement()} and ${owner} = $2${byOrganization ? " and organization_id = $3" : ""} and deleted_at is null`;
}

// Written on first use, once the column list's module has finished loading.
let statements: { user: string; apiKey: string; anonymous: string; byId: string } | undefined;

/** The caller's live document, touched as used; 404 for anyone else's or a deleted one. */
export async function readOwnedDocument(
  platform: Platform,
  principal: Principal,
  id: string,
  generation = 0,
): Promise<DocumentRow> {
  statements ??= {
    user: preparedStatement("document_read_user", statement("user_id", false)),
    apiKey: preparedStatement("document_read_api_key", statement("user_id", true)),
    anonymous: preparedStatement("document_read_anonymous", statement("anonymous_session_id", false)),
    byId: preparedStatement("document_read_by_id", byIdStatement()),
  };
  const owner = ownerColumn(principal);
  const byId = statements.byId;
  const load = async (key: string) => {
    const { rows } = await platform.database.db.executeQuery<DocumentRow>(CompiledQuery.raw(byId, [key]));
    return rows[0] ? shareRow(rows[0]) : undefined;
  };
  const key = rowCacheKey(id);
  let cached: DocumentRow | undefined | null = null;
  const embedded = key ? documentRowCache(platform) : null;
  const server = key && generation > 0 ? documentGenerations(platform) : null;
  if (key && embedded) cached = await embedded.getOrLoad(key, () => load(key));
  else if (key && server) cached = await server.rows.getOrLoad(key, generation, () => load(key));
  if (cached !== null) {
    // The statement's conditions, on the row: another owner's (or a deleted) document is a 404.
    if (
      !cached ||
      cached[owner.column] !== owner.value ||
      (owner.organizationId !== null && cached.organization_id !== owner.organizationId) ||
      cached.deleted_at !== null
    ) {
      throw errors.documentNotFound();
    }
    // The touch is a write: it invalidates the entry (embedded) or moves the
    // generation (server), and the next read loads the touched row.
    if (Date.now() - cached.last_accessed_at.getTime() > TOUCH_AFTER_MS) await touchDocument(platform, cached.id);
    return cached;
  }
  const query = owner.organizationId
    ? CompiledQuery.raw(statements.apiKey, [id, owner.value, owner.organizationId])
    : CompiledQuery.raw(owner.column === "user_id" ? statements.user : statements.anonymous, [id, owner.value]);
  const { rows } = await platform.database.db.executeQuery<DocumentRow>(query);
  const row = rows[0];
  if (!row) throw errors.documentNotFound();
  // Judged on this process's clock; the statement's own guard is on the database's.
  if (Date.now() - row.last_accessed_at.getTime() > TOUCH_AFTER_MS) await touchDocument(platform, row.id);
  return row;
}
