import { type Kysely, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import type { PreferencesPatchInput, PreferencesView, UserView } from "./schemas.ts";
import { preferencesView, userView } from "./views.ts";

/** Account rows: users, their personal organization, memberships and preferences. */

const USER_COLUMNS = [
  "users.id",
  "users.email",
  "users.name",
  "users.status",
  "users.is_verified",
  "users.personal_organization_id",
  "users.last_login_at",
  "users.created_at",
] as const;

export async function findUserByEmail(db: Kysely<Tables>, email: string) {
  return db
    .selectFrom("users")
    .select([...USER_COLUMNS, "users.password_hash"])
    .where(sql<string>`lower(email)`, "=", email.toLowerCase())
    .executeTakeFirst();
}

export async function emailExists(db: Kysely<Tables>, email: string): Promise<boolean> {
  const row = await db
    .selectFrom("users")
    .select("id")
    .where(sql<string>`lower(email)`, "=", email.toLowerCase())
    .executeTakeFirst();
  return row !== undefined;
}

/** Creates a user with a personal organization they own, and default preferences. */
export async function createAccount(
  trx: Kysely<Tables>,
  input: { email: string; name: string; passwordHash: string },
): Promise<UserView> {
  const organization = await trx
    .insertInto("organizations")
    .values({ name: `${input.name.slice(0, 180)}'s workspace`, plan: "free", is_personal: true })
    .returning("id")
    .executeTakeFirstOrThrow();
  const user = await trx
    .insertInto("users")
    .values({
      email: input.email,
      name: input.name,
      password_hash: input.passwordHash,
      personal_organization_id: organization.id,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await trx
    .insertInto("memberships")
    .values({ organization_id: organization.id, user_id: user.id, role: "owner" })
    .execute();
  await trx.insertInto("user_preferences").values({ user_id: user.id, organization_id: organization.id }).execute();
  return (await getUser(trx, user.id)) as UserView;
}

export async function getUser(db: Kysely<Tables>, userId: string): Promise<UserView | null> {
  const row = await db.selectFrom("users").select(USER_COLUMNS).where("id", "=", userId).executeTakeFirst();
  return row ? userView(row) : null;
}

export async function recordLogin(trx: Kysely<Tables>, userId: string): Promise<void> {
  await trx.updateTable("users").set({ last_login_at: sql`now()` }).where("id", "=", userId).execute();
}

export async function getPreferences(db: Kysely<Tables>, userId: string): Promise<PreferencesView | null> {
  const row = await db.selectFrom("user_preferences").selectAll().where("user_id", "=", userId).executeTakeFirst();
  return row ? preferencesView(row) : null;
}

/**
 * Applies a partial update. Nested settings objects merge into what is
 * stored (JSONB ||), like the seeds' `$set` on sub-fields, so a client can
 * change one notification channel without sending the others.
 */
export async function updatePreferences(
  db: Kysely<Tables>,
  userId: string,
  patch: PreferencesPatchInput,
): Promise<PreferencesView | null> {
  const row = await db
    .updateTable("user_preferences")
    .set({
      ...(patch.theme !== undefined ? { theme: patch.theme } : {}),
      ...(patch.fontSize !== undefined ? { font_size: patch.fontSize } : {}),
      ...(patch.language !== undefined ? { language: patch.language } : {}),
      ...(patch.timezone !== undefined ? { timezone: patch.timezone } : {}),
      ...(patch.defaultPromptCategories !== undefined
        ? { default_prompt_categories: patch.defaultPromptCategories }
        : {}),
      ...(patch.notificationSettings !== undefined
        ? { notification_settings: sql`notification_settings || ${JSON.stringify(patch.notificationSettings)}::jsonb` }
        : {}),
      ...(patch.privacySettings !== undefined
        ? { privacy_settings: sql`privacy_settings || ${JSON.stringify(patch.privacySettings)}::jsonb` }
        : {}),
      updated_at: sql`now()`,
    })
    .where("user_id", "=", userId)
    .returningAll()
    .executeTakeFirst();
  return row ? preferencesView(row) : null;
}
