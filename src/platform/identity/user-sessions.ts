import { type Kysely, sql, type Transaction } from "kysely";
import type { Tables } from "../database/tables.ts";
import { transaction } from "../database/transaction.ts";
import type { AppError } from "../errors/app-error.ts";
import { errors } from "../errors/catalog.ts";
import { hashToken, newOpaqueToken } from "./tokens.ts";

/**
 * User sessions and their refresh tokens.
 *
 * A session (seed 002's user_sessions row) starts at every login or
 * registration and is one refresh-token family. Refreshing rotates: the
 * presented token is marked rotated and a new one is issued. Presenting a
 * rotated token again is a replay, and ends the whole session, unless it
 * happens within a short grace window, which lets two tabs that refreshed at
 * the same moment both carry on. Every rotation locks the session row first,
 * so a rotation racing a revocation either sees it and fails, or completes
 * before it; a revoked session can never mint a token.
 */

export interface SessionMeta {
  ipAddress: string | null;
  userAgent: string | null;
}

export interface IssuedRefresh {
  sessionId: string;
  refreshToken: string;
  refreshExpiresAt: Date;
}

export async function startUserSession(
  trx: Kysely<Tables>,
  userId: string,
  organizationId: string,
  ttlSeconds: number,
  meta: SessionMeta,
): Promise<IssuedRefresh> {
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  const session = await trx
    .insertInto("user_sessions")
    .values({
      user_id: userId,
      organization_id: organizationId,
      expires_at: expiresAt,
      ip_address: meta.ipAddress,
      user_agent: meta.userAgent?.slice(0, 500) ?? null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return issueRefreshToken(trx, session.id, expiresAt);
}

async function issueRefreshToken(trx: Kysely<Tables>, sessionId: string, expiresAt: Date): Promise<IssuedRefresh> {
  const refreshToken = newOpaqueToken("rt");
  await trx
    .insertInto("refresh_tokens")
    .values({ session_id: sessionId, token_hash: hashToken(refreshToken), expires_at: expiresAt })
    .execute();
  return { sessionId, refreshToken, refreshExpiresAt: expiresAt };
}

export interface Rotation extends IssuedRefresh {
  userId: string;
  organizationId: string;
}

/**
 * Exchanges a refresh token for a new one. Throws refresh_token_invalid,
 * refresh_token_expired, session_revoked or refresh_token_reused (after
 * committing the revocation that a replay causes).
 */
export async function rotateRefreshToken(
  db: Kysely<Tables>,
  refreshToken: string,
  options: {
    ttlSeconds: number;
    graceSeconds: number;
    organizationId?: string;
    /** Called once a replay's revocation is committed, before the error is thrown. */
    onRevoked?: (sessionId: string) => Promise<void>;
  },
): Promise<Rotation> {
  type Outcome = { rotation: Rotation } | { error: AppError; revoked?: string };
  const outcome: Outcome = await transaction(db, async (trx): Promise<Outcome> => {
    const token = await trx
      .selectFrom("refresh_tokens")
      .select(["id", "session_id", "expires_at", "rotated_at"])
      .where("token_hash", "=", hashToken(refreshToken))
      .executeTakeFirst();
    if (!token) return { error: errors.refreshTokenInvalid() };
    // Lock the family before deciding anything about it.
    const session = await trx
      .selectFrom("user_sessions")
      .innerJoin("users", "users.id", "user_sessions.user_id")
      .select([
        "user_sessions.id",
        "user_sessions.user_id",
        "user_sessions.organization_id",
        "user_sessions.session_end",
        "user_sessions.expires_at",
        "users.status",
      ])
      .where("user_sessions.id", "=", token.session_id)
      .forUpdate("user_sessions")
      .executeTakeFirstOrThrow();
    if (session.session_end !== null) return { error: errors.sessionRevoked() };
    if (session.status !== "active") return { error: errors.accountDisabled() };
    // Re-read the token now that the family is locked: a rotation that ran
    // while this one waited for the lock has marked it by now.
    const current = await trx
      .selectFrom("refresh_tokens")
      .select(["rotated_at"])
      .where("id", "=", token.id)
      .executeTakeFirstOrThrow();
    const now = Date.now();
    if (token.expires_at.getTime() <= now || session.expires_at.getTime() <= now) {
      return { error: errors.refreshTokenExpired() };
    }
    if (current.rotated_at !== null && now - current.rotated_at.getTime() > options.graceSeconds * 1000) {
      await endSessionIn(trx, session.id, "refresh_token_reuse");
      return { error: errors.refreshTokenReused(), revoked: session.id };
    }
    // Decide the organization before spending the token, so a refused switch
    // leaves the token usable rather than turning a retry into a "replay".
    let organizationId = session.organization_id;
    if (options.organizationId && options.organizationId !== organizationId) {
      const member = await trx
        .selectFrom("memberships")
        .select("role")
        .where("organization_id", "=", options.organizationId)
        .where("user_id", "=", session.user_id)
        .executeTakeFirst();
      if (!member) return { error: errors.organizationNotFound() };
      organizationId = options.organizationId;
      await trx
        .updateTable("user_sessions")
        .set({ organization_id: organizationId })
        .where("id", "=", session.id)
        .execute();
    }
    if (current.rotated_at === null) {
      await trx
        .updateTable("refresh_tokens")
        .set({ rotated_at: sql`now()` })
        .where("id", "=", token.id)
        .where("rotated_at", "is", null)
        .execute();
    }
    // A rotation never extends the family past the end its login gave it.
    const expiresAt = new Date(Math.min(session.expires_at.getTime(), now + options.ttlSeconds * 1000));
    const issued = await issueRefreshToken(trx, session.id, expiresAt);
    await trx.updateTable("user_sessions").set({ last_used_at: sql`now()` }).where("id", "=", session.id).execute();
    return { rotation: { ...issued, userId: session.user_id, organizationId } };
  });
  if ("error" in outcome) {
    if (outcome.revoked) await options.onRevoked?.(outcome.revoked);
    throw outcome.error;
  }
  return outcome.rotation;
}

/** Ends a session (logout, replay, admin action): its refresh tokens stop working at once. */
export async function endSession(db: Kysely<Tables>, sessionId: string, reason: string): Promise<boolean> {
  return transaction(db, (trx) => endSessionIn(trx, sessionId, reason));
}

async function endSessionIn(trx: Transaction<Tables>, sessionId: string, reason: string): Promise<boolean> {
  const result = await trx
    .updateTable("user_sessions")
    // clock_timestamp, not now(): the moment the row lock was won, after any
    // rotation that held it first, rather than when this transaction began.
    .set({ session_end: sql`clock_timestamp()`, end_reason: reason })
    .where("id", "=", sessionId)
    .where("session_end", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Every open session of a user, for "log out everywhere". */
export async function openSessionIds(db: Kysely<Tables>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("user_sessions")
    .select("id")
    .where("user_id", "=", userId)
    .where("session_end", "is", null)
    .execute();
  return rows.map((r) => r.id);
}

export async function isSessionOpen(db: Kysely<Tables>, sessionId: string): Promise<boolean> {
  const row = await db.selectFrom("user_sessions").select("session_end").where("id", "=", sessionId).executeTakeFirst();
  return row !== undefined && row.session_end === null;
}
