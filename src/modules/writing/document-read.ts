import { CompiledQuery } from "kysely";
import { preparedStatement } from "../../platform/database/prepared-statements.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { DOCUMENT_COLUMNS, type DocumentRow } from "./documents.ts";
import { ownerColumn } from "./owner-scope.ts";

/**
 * GET /v1/documents/:id in one database round trip: the ownership check, the
 * row, and the once-a-minute `last_accessed_at` touch are one statement. The
 * touch is a data-modifying CTE, which Postgres runs whether or not the outer
 * query reads it; the outer query sees the row as it was before the touch,
 * as the separate read-then-touch did. A row another owner holds matches
 * nothing, so it is neither touched nor returned (404).
 *
 * The statement text depends only on who is asking (a user, an API key that
 * is also held to its organization, or an anonymous session), so its three
 * forms are written once and sent with parameters: no query building or
 * compiling per request, and on Postgres they are named prepared statements
 * (planned once per connection).
 */
function statement(owner: "user_id" | "anonymous_session_id", byOrganization: boolean): string {
  const columns = DOCUMENT_COLUMNS.map((c) => c.slice("documents.".length)).join(", ");
  return `with doc as (
  select ${columns} from documents
  where id = $1 and ${owner} = $2${byOrganization ? " and organization_id = $3" : ""} and deleted_at is null
), touched as (
  update documents set last_accessed_at = now()
  where id = (select id from doc) and last_accessed_at < now() - interval '1 minute'
)
select * from doc`;
}

// Written on first use: documents.ts (which holds the column list) imports this file.
let statements: { user: string; apiKey: string; anonymous: string } | undefined;

/** The caller's live document, touched as used; 404 for anyone else's or a deleted one. */
export async function readOwnedDocument(platform: Platform, principal: Principal, id: string): Promise<DocumentRow> {
  statements ??= {
    user: preparedStatement("document_read_user", statement("user_id", false)),
    apiKey: preparedStatement("document_read_api_key", statement("user_id", true)),
    anonymous: preparedStatement("document_read_anonymous", statement("anonymous_session_id", false)),
  };
  const owner = ownerColumn(principal);
  const query = owner.organizationId
    ? CompiledQuery.raw(statements.apiKey, [id, owner.value, owner.organizationId])
    : CompiledQuery.raw(owner.column === "user_id" ? statements.user : statements.anonymous, [id, owner.value]);
  const { rows } = await platform.database.db.executeQuery<DocumentRow>(query);
  const row = rows[0];
  if (!row) throw errors.notFound("document");
  return row;
}
