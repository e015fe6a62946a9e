import type { ColumnType, Generated } from "kysely";
import type { Json, NullableTimestamp, Timestamp } from "../database/column-types.ts";

/** Table types for accounts, sessions and API keys (migration 2). */

/**
 * The values migration 2's CHECK constraints allow, declared once: the row
 * types below and the API's enums (schemas.ts) are made from these lists.
 * The order is the order the API document lists them in.
 */
export const PLANS = ["anonymous", "free", "pro", "enterprise"] as const;
export const ROLES = ["owner", "admin", "member"] as const;
export const USER_STATUSES = ["active", "suspended", "deleted"] as const;
export const API_KEY_SCOPES = ["read", "write", "admin"] as const;
export const THEMES = ["system", "light", "dark"] as const;

export type Plan = (typeof PLANS)[number];
export type Role = (typeof ROLES)[number];
export type UserStatus = (typeof USER_STATUSES)[number];
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
export type Theme = (typeof THEMES)[number];

/** Seed 001's organization settings; open-ended, so JSONB. */
export interface OrganizationSettings {
  max_contexts_per_day?: number;
  max_batch_size?: number;
  allowed_models?: string[];
  default_pipeline_id?: string;
  /** Per-route-class requests per minute, overriding the plan's defaults. */
  rate_limits?: Record<string, number>;
  [key: string]: unknown;
}

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  plan: ColumnType<Plan, Plan | undefined, Plan>;
  settings: Json<OrganizationSettings>;
  contacts: Json<{ name: string; email: string; role: string }[]>;
  billing: Json<Record<string, unknown>>;
  is_personal: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface UsersTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  name: string;
  status: ColumnType<UserStatus, UserStatus | undefined, UserStatus>;
  is_verified: ColumnType<boolean, boolean | undefined, boolean>;
  personal_organization_id: string;
  last_login_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface MembershipsTable {
  organization_id: string;
  user_id: string;
  role: Role;
  created_at: Timestamp;
}

export interface UserPreferencesTable {
  user_id: string;
  organization_id: string;
  theme: ColumnType<Theme, Theme | undefined, Theme>;
  font_size: ColumnType<number, number | undefined, number>;
  language: ColumnType<string, string | undefined, string>;
  timezone: ColumnType<string, string | undefined, string>;
  default_prompt_categories: ColumnType<string[], string[] | undefined, string[]>;
  notification_settings: Json<Record<string, unknown>>;
  privacy_settings: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  organization_id: string;
  user_id: string;
  name: string;
  key_prefix: string;
  key_hash: string;
  scopes: ApiKeyScope[];
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface AnonymousSessionsTable {
  id: Generated<string>;
  token_hash: string;
  organization_id: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  claimed_by_user_id: string | null;
  claimed_at: NullableTimestamp;
}

/** Seed 002's user_sessions: one row per login, which is also one refresh-token family. */
export interface UserSessionsTable {
  id: Generated<string>;
  user_id: string;
  organization_id: string;
  session_start: Timestamp;
  session_end: NullableTimestamp;
  last_used_at: Timestamp;
  expires_at: Timestamp;
  end_reason: string | null;
  activities: Json<Record<string, unknown>>;
  ip_address: string | null;
  user_agent: string | null;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  session_id: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  rotated_at: NullableTimestamp;
}

declare module "../database/tables.ts" {
  interface Tables {
    organizations: OrganizationsTable;
    users: UsersTable;
    memberships: MembershipsTable;
    user_preferences: UserPreferencesTable;
    api_keys: ApiKeysTable;
    anonymous_sessions: AnonymousSessionsTable;
    user_sessions: UserSessionsTable;
    refresh_tokens: RefreshTokensTable;
  }
}
