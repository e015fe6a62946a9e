import { randomBytes } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import { errors } from "../errors/catalog.ts";
import { afterCursor, decodeCursor, type Page, toPage } from "../pagination.ts";
import type { ApiKeyView, NewApiKeyView } from "./schemas.ts";
import type { ApiKeyScope, Role } from "./tables.ts";
import { hashToken, tokensEqual } from "./tokens.ts";
import { apiKeyView } from "./views.ts";

/**
 * API keys for server-to-server calls: `sk_<prefix>_<secret>`. The prefix
 * (public, unique) finds the row; the SHA-256 of the whole key is compared in
 * constant time. The key is shown once, at creation; Strata keeps only the
 * hash. Keys act for their creator within one organization, limited by
 * their scopes.
 */
const LAST_USED_RESOLUTION_MS = 60_000;

export async function createApiKey(
  db: Kysely<Tables>,
  input: { userId: string; organizationId: string; role: Role; name: string; scopes: ApiKeyScope[] },
): Promise<NewApiKeyView> {
  if (input.scopes.includes("admin") && input.role === "member") throw errors.insufficientRole("admin");
  const prefix = randomBytes(9).toString("base64url");
  const key = `sk_${prefix}_${randomBytes(32).toString("base64url")}`;
  const row = await db
    .insertInto("api_keys")
    .values({
      organization_id: input.organizationId,
      user_id: input.userId,
      name: input.name,
      key_prefix: prefix,
      key_hash: hashToken(key),
      scopes: [...new Set(input.scopes)].sort(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { apiKey: apiKeyView(row), key };
}

/** Keys of the caller's organization: admins see all of them, members their own. */
export async function listApiKeys(
  db: Kysely<Tables>,
  scope: { userId: string; organizationId: string; role: Role },
  limit: number,
  cursor?: string,
): Promise<Page<ApiKeyView>> {
  const after = decodeCursor(cursor);
  let query = db.selectFrom("api_keys").selectAll().where("organization_id", "=", scope.organizationId);
  if (scope.role === "member") query = query.where("user_id", "=", scope.userId);
  if (after) query = query.where(afterCursor(after, "created_at", "id"));
  const rows = await query
    .orderBy("created_at")
    .orderBy("id")
    .limit(limit + 1)
    .execute();
  return toPage(rows, limit, (r) => ({ at: r.created_at, id: r.id }), apiKeyView);
}

export async function revokeApiKey(
  db: Kysely<Tables>,
  scope: { userId: string; organizationId: string; role: Role },
  keyId: string,
): Promise<{ prefix: string }> {
  let query = db
    .updateTable("api_keys")
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where("id", "=", keyId)
    .where("organization_id", "=", scope.organizationId);
  if (scope.role === "member") query = query.where("user_id", "=", scope.userId);
  const row = await query.returning("key_prefix").executeTakeFirst();
  if (!row) throw errors.apiKeyNotFound();
  return { prefix: row.key_prefix };
}

export interface ResolvedApiKey {
  id: string;
  userId: string;
  organizationId: string;
  scopes: ApiKeyScope[];
}

/** What a bearer key's lookup needs, cacheable by its public prefix (the secret is checked on every use). */
export interface ApiKeyRecord extends ResolvedApiKey {
  prefix: string;
  keyHash: string;
  live: boolean;
  lastUsedAt: number | null;
}

/** The prefix of a well-formed key, or null. */
export function apiKeyPrefix(token: string): string | null {
  const match = /^sk_([A-Za-z0-9_-]{12})_[A-Za-z0-9_-]{43}$/.exec(token);
  return match ? (match[1] as string) : null;
}

/** The row a key prefix names, whatever its state; undefined when there is none. */
export async function findApiKey(db: Kysely<Tables>, prefix: string): Promise<ApiKeyRecord | undefined> {
  const row = await db
    .selectFrom("api_keys")
    .innerJoin("users", "users.id", "api_keys.user_id")
    .select([
      "api_keys.id",
      "api_keys.user_id",
      "api_keys.organization_id",
      "api_keys.scopes",
      "api_keys.key_hash",
      "api_keys.revoked_at",
      "api_keys.last_used_at",
      "users.status",
    ])
    .where("api_keys.key_prefix", "=", prefix)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    userId: row.user_id,
    organizationId: row.organization_id,
    scopes: row.scopes,
    prefix,
    keyHash: row.key_hash,
    live: row.revoked_at === null && row.status === "active",
    lastUsedAt: row.last_used_at?.getTime() ?? null,
  };
}

/** Whether `token` is the live key `record` describes (constant-time on the secret). */
export function apiKeyMatches(record: ApiKeyRecord, token: string): boolean {
  return record.live && tokensEqual(record.keyHash, hashToken(token));
}

/** Records use at most once a minute; true when it wrote. */
export async function recordApiKeyUse(db: Kysely<Tables>, record: ApiKeyRecord, now = Date.now()): Promise<boolean> {
  if (record.lastUsedAt !== null && now - record.lastUsedAt <= LAST_USED_RESOLUTION_MS) return false;
  await db.updateTable("api_keys").set({ last_used_at: sql`now()` }).where("id", "=", record.id).execute();
  return true;
}
