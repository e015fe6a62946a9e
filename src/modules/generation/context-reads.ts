import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { newestFirstPage, type Page } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { organizationScope } from "./organization-scope.ts";
import type { ContextView } from "./schemas.ts";
import { contextView } from "./views.ts";

/** Seed 001's User Context History page size. */
export const USER_CONTEXTS_PAGE = 20;

/** A context of the caller's organization; another organization's is not found. */
export async function getContext(platform: Platform, principal: Principal, contextId: string): Promise<ContextView> {
  const scope = organizationScope(principal);
  const row = await platform.database.db
    .selectFrom("generation_contexts")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("id", "=", contextId)
    .executeTakeFirst();
  if (!row) throw errors.contextNotFound();
  return contextView(row);
}

/**
 * Seed 001's User Context History: the caller's contexts in the
 * organization, newest first, a page at a time, read from the contexts'
 * (user_id, organization_id, created_at desc, id desc) index.
 */
export async function listUserContexts(
  platform: Platform,
  principal: Principal,
  options: { limit: number; cursor?: string },
): Promise<Page<ContextView>> {
  const scope = organizationScope(principal);
  const query = platform.database.read
    .selectFrom("generation_contexts")
    .selectAll()
    .where("user_id", "=", scope.userId)
    .where("organization_id", "=", scope.organizationId);
  return newestFirstPage(query, options, contextView);
}
