import { type Kysely, type Selectable, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import type { KvStore } from "../kv/kv-store.ts";
import { PUBLIC_ORGANIZATION_ID } from "./public-organization.ts";
import type { AnonymousSessionsTable } from "./tables.ts";
import { hashToken, newOpaqueToken } from "./tokens.ts";

/**
 * Anonymous sessions: an opaque server-issued token with a sliding expiry
 * (24 h by default). Postgres holds the session (its rows' ownership depends
 * on it); the key-value store caches the token lookup under seed 003's
 * `session:{id}` naming, keyed by the token's hash. Sliding is written at
 * most once a minute per session, not on every request.
 */
const TOUCH_INTERVAL_MS = 60_000;

export interface AnonymousSession {
  id: string;
  organizationId: string;
  expiresAt: Date;
  lastSeenAt: Date;
}

export async function createAnonymousSession(
  db: Kysely<Tables>,
  ttlSeconds: number,
): Promise<{ token: string; session: AnonymousSession }> {
  const token = newOpaqueToken("anon");
  const row = await db
    .insertInto("anonymous_sessions")
    .values({
      token_hash: hashToken(token),
      organization_id: PUBLIC_ORGANIZATION_ID,
      expires_at: new Date(Date.now() + ttlSeconds * 1000),
    })
    .returning(["id", "organization_id", "expires_at", "last_seen_at"])
    .executeTakeFirstOrThrow();
  return { token, session: toSession(row) };
}

/**
 * The live session a token names, with its expiry slid forward, or null when
 * it is unknown, expired or already claimed by an account.
 */
export async function resolveAnonymousSession(
  db: Kysely<Tables>,
  kv: KvStore,
  token: string,
  ttlSeconds: number,
): Promise<AnonymousSession | null> {
  const tokenHash = hashToken(token);
  const cacheKey = `session:${tokenHash}`;
  let session = await readCached(kv, cacheKey);
  if (!session) {
    const row = await db
      .selectFrom("anonymous_sessions")
      .select(["id", "organization_id", "expires_at", "last_seen_at"])
      .where("token_hash", "=", tokenHash)
      .where("claimed_at", "is", null)
      .executeTakeFirst();
    if (!row) return null;
    session = toSession(row);
  }
  const now = Date.now();
  if (session.expiresAt.getTime() <= now) return null;
  if (now - session.lastSeenAt.getTime() > TOUCH_INTERVAL_MS) {
    const updated = await db
      .updateTable("anonymous_sessions")
      .set({ last_seen_at: sql`now()`, expires_at: new Date(now + ttlSeconds * 1000) })
      .where("id", "=", session.id)
      .where("claimed_at", "is", null)
      .returning(["id", "organization_id", "expires_at", "last_seen_at"])
      .executeTakeFirst();
    if (!updated) {
      await kv.del(cacheKey).catch(() => {});
      return null;
    }
    session = toSession(updated);
  }
  await kv
    .set(cacheKey, JSON.stringify(session), { ttlMs: Math.max(1, session.expiresAt.getTime() - now) })
    .catch(() => {});
  return session;
}

/** Drops the cached lookup once a session is claimed, so its token stops working at once. */
export async function forgetAnonymousToken(kv: KvStore, token: string): Promise<void> {
  await kv.del(`session:${hashToken(token)}`);
}

async function readCached(kv: KvStore, key: string): Promise<AnonymousSession | null> {
  try {
    const raw = await kv.get(key);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as { id: string; organizationId: string; expiresAt: string; lastSeenAt: string };
    return { ...parsed, expiresAt: new Date(parsed.expiresAt), lastSeenAt: new Date(parsed.lastSeenAt) };
  } catch {
    // The store is down or the entry is damaged: Postgres decides.
    return null;
  }
}

function toSession(
  row: Pick<Selectable<AnonymousSessionsTable>, "id" | "organization_id" | "expires_at" | "last_seen_at">,
): AnonymousSession {
  return { id: row.id, organizationId: row.organization_id, expiresAt: row.expires_at, lastSeenAt: row.last_seen_at };
}
