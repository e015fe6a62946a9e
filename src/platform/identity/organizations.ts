import { type Kysely, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import { transaction } from "../database/transaction.ts";
import { errors } from "../errors/catalog.ts";
import { afterCursor, decodeCursor, type Page, toPage } from "../pagination.ts";
import type { MemberView, OrganizationView } from "./schemas.ts";
import type { Role } from "./tables.ts";
import { memberView, organizationView, settingsFromApi } from "./views.ts";

/**
 * Organizations and memberships. Every read is scoped by the caller's
 * membership: an organization the caller does not belong to is not found.
 */

const ORG_COLUMNS = [
  "organizations.id",
  "organizations.name",
  "organizations.plan",
  "organizations.is_personal",
  "organizations.settings",
  "organizations.created_at",
  "organizations.updated_at",
  "memberships.role",
] as const;

function memberOrgs(db: Kysely<Tables>, userId: string) {
  return db
    .selectFrom("organizations")
    .innerJoin("memberships", "memberships.organization_id", "organizations.id")
    .where("memberships.user_id", "=", userId)
    .where("organizations.deleted_at", "is", null);
}

export async function listOrganizations(
  db: Kysely<Tables>,
  userId: string,
  limit: number,
  cursor?: string,
  options: { only?: string | null } = {},
): Promise<Page<OrganizationView>> {
  const after = decodeCursor(cursor);
  let query = memberOrgs(db, userId).select(ORG_COLUMNS);
  if (options.only) query = query.where("organizations.id", "=", options.only);
  if (after) query = query.where(afterCursor(after, "organizations.created_at", "organizations.id"));
  const rows = await query
    .orderBy("organizations.created_at")
    .orderBy("organizations.id")
    .limit(limit + 1)
    .execute();
  return toPage(rows, limit, (r) => ({ at: r.created_at, id: r.id }), organizationView);
}

export async function getOrganization(db: Kysely<Tables>, userId: string, organizationId: string) {
  const row = await memberOrgs(db, userId)
    .select(ORG_COLUMNS)
    .where("organizations.id", "=", organizationId)
    .executeTakeFirst();
  if (!row) throw errors.organizationNotFound();
  return organizationView(row);
}

export async function createOrganization(db: Kysely<Tables>, userId: string, name: string): Promise<OrganizationView> {
  return transaction(db, async (trx) => {
    const org = await trx.insertInto("organizations").values({ name }).returning("id").executeTakeFirstOrThrow();
    await trx.insertInto("memberships").values({ organization_id: org.id, user_id: userId, role: "owner" }).execute();
    return getOrganization(trx, userId, org.id);
  });
}

export async function updateOrganization(
  db: Kysely<Tables>,
  userId: string,
  organizationId: string,
  patch: { name?: string; settings?: Record<string, unknown> },
): Promise<OrganizationView> {
  const current = await getOrganization(db, userId, organizationId);
  requireRole(current.role, "admin");
  await db
    .updateTable("organizations")
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.settings !== undefined
        ? { settings: sql`settings || ${JSON.stringify(settingsFromApi(patch.settings))}::jsonb` }
        : {}),
      updated_at: sql`now()`,
    })
    .where("id", "=", organizationId)
    .execute();
  return getOrganization(db, userId, organizationId);
}

/** The caller's role in an organization, or null when not a member. */
export async function roleIn(db: Kysely<Tables>, userId: string, organizationId: string): Promise<Role | null> {
  const row = await db
    .selectFrom("memberships")
    .select("role")
    .where("organization_id", "=", organizationId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  return row?.role ?? null;
}

const RANK: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

export function requireRole(actual: Role, needed: Role): void {
  if (RANK[actual] < RANK[needed]) throw errors.insufficientRole(needed);
}

export async function listMembers(
  db: Kysely<Tables>,
  userId: string,
  organizationId: string,
  limit: number,
  cursor?: string,
): Promise<Page<MemberView>> {
  await getOrganization(db, userId, organizationId);
  const after = decodeCursor(cursor);
  let query = db
    .selectFrom("memberships")
    .innerJoin("users", "users.id", "memberships.user_id")
    .select(["users.id", "users.email", "users.name", "memberships.role", "memberships.created_at"])
    .where("memberships.organization_id", "=", organizationId);
  if (after) query = query.where(afterCursor(after, "memberships.created_at", "users.id"));
  const rows = await query
    .orderBy("memberships.created_at")
    .orderBy("users.id")
    .limit(limit + 1)
    .execute();
  return toPage(rows, limit, (r) => ({ at: r.created_at, id: r.id }), memberView);
}

/** Adds an existing user by email. Admins add members and admins; only owners make owners. */
export async function addMember(
  db: Kysely<Tables>,
  actorId: string,
  organizationId: string,
  input: { email: string; role: Role },
): Promise<MemberView> {
  const org = await getOrganization(db, actorId, organizationId);
  requireRole(org.role, input.role === "owner" ? "owner" : "admin");
  if (org.isPersonal) throw errors.personalOrganization();
  const user = await db
    .selectFrom("users")
    .select(["id", "email", "name"])
    .where(sql<string>`lower(email)`, "=", input.email.toLowerCase())
    .where("status", "=", "active")
    .executeTakeFirst();
  if (!user) throw errors.userNotFound();
  const inserted = await db
    .insertInto("memberships")
    .values({ organization_id: organizationId, user_id: user.id, role: input.role })
    .onConflict((oc) => oc.doNothing())
    .returning("created_at")
    .executeTakeFirst();
  if (!inserted) throw errors.alreadyMember();
  return memberView({ ...user, role: input.role, created_at: inserted.created_at });
}

/**
 * Changes a member's role. Owners may change anyone's; admins may move
 * members and admins between those two roles. The last owner stays an owner.
 */
export async function changeRole(
  db: Kysely<Tables>,
  actorId: string,
  organizationId: string,
  memberId: string,
  role: Role,
): Promise<MemberView> {
  return transaction(db, async (trx) => {
    const org = await getOrganization(trx, actorId, organizationId);
    const current = await lockedMember(trx, organizationId, memberId);
    requireRole(org.role, current.role === "owner" || role === "owner" ? "owner" : "admin");
    if (current.role === "owner" && role !== "owner") await ensureAnotherOwner(trx, organizationId, memberId);
    await trx
      .updateTable("memberships")
      .set({ role })
      .where("organization_id", "=", organizationId)
      .where("user_id", "=", memberId)
      .execute();
    return { ...current.view, role };
  });
}

/** Removes a member; anyone may leave, admins remove members and admins, owners anyone; never the last owner. */
export async function removeMember(db: Kysely<Tables>, actorId: string, organizationId: string, memberId: string) {
  await transaction(db, async (trx) => {
    const org = await getOrganization(trx, actorId, organizationId);
    const current = await lockedMember(trx, organizationId, memberId);
    if (actorId !== memberId) requireRole(org.role, current.role === "owner" ? "owner" : "admin");
    if (current.role === "owner") await ensureAnotherOwner(trx, organizationId, memberId);
    await trx
      .deleteFrom("memberships")
      .where("organization_id", "=", organizationId)
      .where("user_id", "=", memberId)
      .execute();
  });
}

async function lockedMember(trx: Kysely<Tables>, organizationId: string, memberId: string) {
  // Lock every owner row too, so two owners demoting each other at once cannot both succeed.
  await trx
    .selectFrom("memberships")
    .select("user_id")
    .where("organization_id", "=", organizationId)
    .where("role", "=", "owner")
    .forUpdate()
    .execute();
  const row = await trx
    .selectFrom("memberships")
    .innerJoin("users", "users.id", "memberships.user_id")
    .select(["users.id", "users.email", "users.name", "memberships.role", "memberships.created_at"])
    .where("memberships.organization_id", "=", organizationId)
    .where("memberships.user_id", "=", memberId)
    .forUpdate("memberships")
    .executeTakeFirst();
  if (!row) throw errors.memberNotFound();
  return { role: row.role, view: memberView(row) };
}

async function ensureAnotherOwner(trx: Kysely<Tables>, organizationId: string, leavingId: string) {
  const others = await trx
    .selectFrom("memberships")
    .select("user_id")
    .where("organization_id", "=", organizationId)
    .where("role", "=", "owner")
    .where("user_id", "!=", leavingId)
    .execute();
  if (others.length === 0) throw errors.lastOwner();
}
