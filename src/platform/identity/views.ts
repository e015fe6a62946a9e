import type { Selectable } from "kysely";
import type { ApiKeyView, MemberView, OrganizationView, PreferencesView, UserView } from "./schemas.ts";
import type { ApiKeysTable, MembershipsTable, OrganizationsTable, UserPreferencesTable, UsersTable } from "./tables.ts";

/**
 * Rows mapped to API objects, in one place: the API speaks camelCase and
 * never shows a column it does not mean to (password hashes, key hashes).
 * Each takes the columns it reads of its table's row type and returns the
 * view its schema defines (schemas.ts).
 */
export function userView(
  row: Pick<
    Selectable<UsersTable>,
    "id" | "email" | "name" | "status" | "is_verified" | "personal_organization_id" | "last_login_at" | "created_at"
  >,
): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    status: row.status,
    isVerified: row.is_verified,
    personalOrganizationId: row.personal_organization_id,
    lastLoginAt: row.last_login_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

export function preferencesView(
  row: Omit<Selectable<UserPreferencesTable>, "user_id" | "organization_id">,
): PreferencesView {
  return {
    theme: row.theme,
    fontSize: row.font_size,
    language: row.language,
    timezone: row.timezone,
    defaultPromptCategories: row.default_prompt_categories,
    notificationSettings: row.notification_settings,
    privacySettings: row.privacy_settings,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Seed 001's snake_case settings keys, shown in the API's camelCase. */
const SETTINGS_KEYS: Record<string, string> = {
  max_contexts_per_day: "maxContextsPerDay",
  max_batch_size: "maxBatchSize",
  allowed_models: "allowedModels",
  default_pipeline_id: "defaultPipelineId",
  rate_limits: "rateLimits",
};

export function settingsToApi(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [SETTINGS_KEYS[k] ?? k, v]));
}

export function settingsFromApi(settings: Record<string, unknown>): Record<string, unknown> {
  const reverse = Object.fromEntries(Object.entries(SETTINGS_KEYS).map(([snake, camel]) => [camel, snake]));
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [reverse[k] ?? k, v]));
}

export function organizationView(
  row: Pick<
    Selectable<OrganizationsTable>,
    "id" | "name" | "plan" | "is_personal" | "settings" | "created_at" | "updated_at"
  > &
    Pick<Selectable<MembershipsTable>, "role">,
): OrganizationView {
  return {
    id: row.id,
    name: row.name,
    plan: row.plan,
    isPersonal: row.is_personal,
    settings: settingsToApi(row.settings),
    role: row.role,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A member: the user's public fields and their membership (`joinedAt` is when it was made). */
export function memberView(
  row: Pick<Selectable<UsersTable>, "id" | "email" | "name"> &
    Pick<Selectable<MembershipsTable>, "role" | "created_at">,
): MemberView {
  return { userId: row.id, email: row.email, name: row.name, role: row.role, joinedAt: row.created_at.toISOString() };
}

export function apiKeyView(row: Omit<Selectable<ApiKeysTable>, "key_hash">): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: `sk_${row.key_prefix}`,
    scopes: row.scopes,
    organizationId: row.organization_id,
    userId: row.user_id,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}
