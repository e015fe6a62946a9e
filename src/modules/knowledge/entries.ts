import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from "kysely";
import { sqlState } from "../../platform/database/sqlstate.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { isAdmin, type Principal } from "../../platform/identity/principal.ts";
import { afterCursor, decodeCursor, type Page, toPage } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { entryCache, entryCacheKey, forgetEntries } from "./entry-cache.ts";
import type { AnyKind } from "./kinds.ts";
import { recordEntryChange } from "./knowledge-changes.ts";
import { announceChange } from "./knowledge-copy.ts";

/**
 * Rules, practices and templates, one service for all three (kinds.ts says
 * how they differ). Seed 004's access rules, at the application level:
 * system entries (no organization) are read by every caller, anonymous
 * sessions included; an organization's own entries by its members; only the
 * organization's admins (or an API key with the admin scope) write them,
 * and nobody writes a system entry through the API. Deleting is the seed's
 * soft delete: the active flag goes false and the entry can be restored.
 */

type Db = Kysely<any>;
type Account = Exclude<Principal, { kind: "anonymous" }>;
type Eb = ExpressionBuilder<any, any>;

/** Entries the principal may read: the system's and its organization's. */
export function readableBy(principal: Principal) {
  return (eb: Eb): Expression<SqlBool> =>
    eb.or([eb("organization_id", "is", null), eb("organization_id", "=", principal.organizationId)]);
}

/** An account that administers its organization, or insufficient_role. */
export function requireAdmin(principal: Principal): Account {
  if (principal.kind === "anonymous" || !isAdmin(principal)) throw errors.insufficientRole("admin");
  return principal;
}

export interface EntryFilters {
  category?: string;
  tag?: string;
  /** Active entries (the default), or only the deleted ones. */
  active: boolean;
  /** Only system entries (true), or only the organization's own (false). */
  system?: boolean;
  /** The kind's own filters, by column (severity, enforcement, status, is_required). */
  columns?: Record<string, string | boolean>;
}

export async function listEntries<View>(
  platform: Platform,
  principal: Principal,
  spec: AnyKind,
  filters: EntryFilters,
  page: { limit: number; cursor?: string },
): Promise<Page<View>> {
  const after = decodeCursor(page.cursor);
  let query = (platform.database.read as Db)
    .selectFrom(spec.table)
    .selectAll()
    .where(readableBy(principal))
    .where(spec.activeColumn, "=", filters.active);
  if (filters.category !== undefined) query = query.where("category", "=", filters.category.trim().toLowerCase());
  if (filters.tag !== undefined) {
    query = query.where(sql<boolean>`tags @> ${JSON.stringify([filters.tag.trim().toLowerCase()])}::jsonb`);
  }
  if (filters.system !== undefined) {
    query = query.where("organization_id", filters.system ? "is" : "is not", null);
  }
  for (const [column, value] of Object.entries(filters.columns ?? {})) query = query.where(column, "=", value);
  if (after) query = query.where(afterCursor(after, "created_at", "id"));
  const rows = await query
    .orderBy("created_at")
    .orderBy("id")
    .limit(page.limit + 1)
    .execute();
  return toPage(rows, page.limit, (r) => ({ at: r.created_at, id: r.id }), spec.view);
}

/** One entry the principal may read, through the two-tier cache (entry-cache.ts). */
export async function getEntry<View>(
  platform: Platform,
  principal: Principal,
  spec: AnyKind,
  id: string,
): Promise<View> {
  const cached = await entryCache(platform).getOrLoad(entryCacheKey(spec, id), async () => {
    const row = await (platform.database.read as Db)
      .selectFrom(spec.table)
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? { organizationId: row.organization_id, view: spec.view(row) } : undefined;
  });
  const readable = cached && (cached.organizationId === null || cached.organizationId === principal.organizationId);
  if (!readable) throw errors.knowledgeEntryNotFound(spec.kind, id);
  return cached.view as View;
}

/** Adds an entry to the caller's organization (admins only). */
export async function createEntry<View>(
  platform: Platform,
  principal: Principal,
  spec: AnyKind,
  body: Record<string, unknown>,
): Promise<View> {
  const admin = requireAdmin(principal);
  const key = body.key as string;
  try {
    const made = await transaction(platform.database.db as Db, async (trx) => {
      const row = await trx
        .insertInto(spec.table)
        .values({
          ...spec.columns(body),
          [spec.keyColumn]: key,
          organization_id: admin.organizationId,
          created_by: admin.userId,
          updated_by: admin.userId,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await stored(platform, trx, spec, row, null);
      return spec.view(row);
    });
    // A new id has nothing cached to drop: only the local copies need to hear of it.
    await announceChange(platform);
    return made;
  } catch (error) {
    if (sqlState(error) === "23505") throw errors.knowledgeKeyTaken(spec.kind, "key", key);
    throw error;
  }
}

/**
 * Changes an entry of the caller's organization (admins only): the fields
 * the patch names; `active` false deletes it (softly), true restores it.
 * A system entry answers knowledge_entry_read_only; another organization's
 * is not found.
 */
export async function updateEntry<View>(
  platform: Platform,
  principal: Principal,
  spec: AnyKind,
  id: string,
  patch: Record<string, unknown> & { active?: boolean },
): Promise<View> {
  const updated = await transaction(platform.database.db as Db, async (trx) => {
    const current = await trx
      .selectFrom(spec.table)
      .selectAll()
      .where("id", "=", id)
      .where(readableBy(principal))
      .forUpdate()
      .executeTakeFirst();
    // Found before the role is checked: to a caller who cannot read it, another organization's entry is not found.
    if (!current) throw errors.knowledgeEntryNotFound(spec.kind, id);
    const admin = requireAdmin(principal);
    if (current.organization_id === null) throw errors.knowledgeEntryReadOnly(spec.kind, id);
    const { active, ...fields } = patch;
    const activity =
      active === undefined || active === current[spec.activeColumn]
        ? {}
        : { [spec.activeColumn]: active, deactivated_at: active ? null : sql`now()` };
    const row = await trx
      .updateTable(spec.table)
      .set({ ...spec.columns(fields), ...activity, updated_at: sql`now()`, updated_by: admin.userId })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await stored(platform, trx, spec, row, current);
    return spec.view(row);
  });
  await forgetEntries(platform, spec, [id]);
  return updated;
}

/** Soft-deletes an entry of the caller's organization (admins only); deleting a deleted entry changes nothing. */
export async function deleteEntry(platform: Platform, principal: Principal, spec: AnyKind, id: string): Promise<void> {
  await updateEntry(platform, principal, spec, id, { active: false });
}

/**
 * What follows every write, inside its transaction: the checks the schema
 * cannot make (on the entry as stored, so a patch is checked merged), and
 * the entry's text queued for embedding when it changed.
 */
async function stored(platform: Platform, trx: Db, spec: AnyKind, row: any, before: any | null): Promise<void> {
  const problems = spec.problems?.(row) ?? [];
  if (problems.length > 0) throw errors.validationFailed(problems);
  const text = spec.embedText(row);
  if (before === null || spec.embedText(before) !== text) {
    await platform.vectors.queue(trx, spec.source, [{ id: row.id, text }]);
  }
  await recordEntryChange(platform, trx, spec, row, before);
}
