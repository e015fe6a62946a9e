import type { ApiKeyScope, Role, UserStatus } from "./tables.ts";

/**
 * Rows mapped to API objects, in one place: the API speaks camelCase and
 * never shows a column it does not mean to (password hashes, key hashes).
 */
export interface UserView {
  id: string;
  email: string;
  name: string;
  status: UserStatus;
  isVerified: boolean;
  personalOrganizationId: string;
  lastLoginAt: string | null;
  createdAt: string;
}

export function userView(row: {
  id: string;
  email: string;
  name: string;
  status: UserStatus;
  is_verified: boolean;
  personal_organization_id: string;
  last_login_at: Date | null;
  created_at: Date;
}): UserView {
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

export interface PreferencesView {
  theme: string;
  fontSize: number;
  language: string;
  timezone: string;
  defaultPromptCategories: string[];
  notificationSettings: Record<string, unknown>;
  privacySettings: Record<string, unknown>;
  updatedAt: string;
}

export function preferencesView(row: {
  theme: string;
  font_size: number;
  language: string;
  timezone: string;
  default_prompt_categories: string[];
  notification_settings: Record<string, unknown>;
  privacy_settings: Record<string, unknown>;
  updated_at: Date;
}): PreferencesView {
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

export interface OrganizationView {
  id: string;
  name: string;
  plan: string;
  isPersonal: boolean;
  settings: Record<string, unknown>;
  role: Role;
  createdAt: string;
  updatedAt: string;
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

export function organizationView(row: {
  id: string;
  name: string;
  plan: string;
  is_personal: boolean;
  settings: Record<string, unknown>;
  role: Role;
  created_at: Date;
  updated_at: Date;
}): OrganizationView {
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

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: Role;
  joinedAt: string;
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  organizationId: string;
  userId: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function apiKeyView(row: {
  id: string;
  name: string;
  key_prefix: string;
  scopes: ApiKeyScope[];
  organization_id: string;
  user_id: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyView {
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
