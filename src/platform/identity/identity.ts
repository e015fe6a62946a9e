import type { Kysely, Transaction } from "kysely";
import type { Config } from "../../config/config.ts";
import type { Caches } from "../cache/cache.ts";
import { sqlState } from "../database/sqlstate.ts";
import type { Tables } from "../database/tables.ts";
import { transaction } from "../database/transaction.ts";
import { AppError } from "../errors/app-error.ts";
import { errors } from "../errors/catalog.ts";
import type { KvStore, Unsubscribe } from "../kv/kv-store.ts";
import type { Logger } from "../logging/logger.ts";
import type { Page } from "../pagination.ts";
import { createAccount, findUserByEmail, getPreferences, getUser, recordLogin, updatePreferences } from "./accounts.ts";
import { createAnonymousSession, forgetAnonymousToken, resolveAnonymousSession } from "./anonymous-sessions.ts";
import {
  type ApiKeyRecord,
  apiKeyMatches,
  apiKeyPrefix,
  createApiKey,
  findApiKey,
  listApiKeys,
  recordApiKeyUse,
  revokeApiKey,
} from "./api-keys.ts";
import { OrganizationService } from "./organization-service.ts";
import { roleIn } from "./organizations.ts";
import { OwnershipTransferError, OwnershipTransferHooks } from "./ownership-transfer.ts";
import { hashPassword, passwordProblems, verifyAgainstDecoy, verifyPassword } from "./passwords.ts";
import type { Principal } from "./principal.ts";
import type {
  AnonymousTokenView,
  ApiKeyView,
  NewApiKeyView,
  PreferencesPatchInput,
  PreferencesView,
  SignedInView,
  TokensView,
  UserView,
} from "./schemas.ts";
import type { ApiKeyScope, Role } from "./tables.ts";
import { opaqueKind, TokenSigner } from "./tokens.ts";
import {
  endSession,
  isSessionOpen,
  openSessionIds,
  rotateRefreshToken,
  type SessionMeta,
  startUserSession,
} from "./user-sessions.ts";

/**
 * Per-request lookups are cached in-process (see platform/cache/local-cache.ts):
 * every change is published to all processes at once, and this TTL is only
 * the backstop for a lost message (for example, a user disabled directly in
 * the database by an operator).
 */
const LOOKUP_TTL_MS = 30_000;
const MEMBERSHIPS = "membership";
const API_KEYS = "api_key";

/** What a bearer token resolves to before the session check (see `resolve`). */
export interface Resolution {
  principal: Principal | null;
  /** For a user's access token: the key-value key that exists once its session has ended. */
  revocationMarker: string | null;
}

/**
 * Identity as one service: registration and login (with the anonymous
 * session's data moving to the account), token refresh and logout, and
 * turning a bearer token into a Principal on every request.
 */
export class Identity {
  readonly signer: TokenSigner;
  readonly transferHooks = new OwnershipTransferHooks();
  /** Organizations and members, as the API acts on them (organization-service.ts). */
  readonly organizations: OrganizationService;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly kv: KvStore,
    private readonly caches: Caches,
    private readonly settings: Config["auth"],
    signingSecret: string,
    private readonly logger: Logger,
    read: Kysely<Tables> = db,
  ) {
    this.signer = new TokenSigner(signingSecret, settings);
    this.organizations = new OrganizationService(db, read, caches, (userId, organizationId) =>
      this.forgetRole(userId, organizationId),
    );
  }

  async startAnonymous(): Promise<AnonymousTokenView> {
    const { token, session } = await createAnonymousSession(this.db, this.settings.anonymousSessionTtlSeconds);
    return { accessToken: token, expiresAt: session.expiresAt.toISOString() };
  }

  async register(
    input: { email: string; password: string; name?: string | undefined },
    anonymousToken: string | null,
    meta: SessionMeta,
  ): Promise<SignedInView> {
    // Without a name, the address's local part stands in ("ada" for ada@example.com); it can be changed later.
    const name = input.name ?? (input.email.split("@")[0] || input.email);
    const problems = passwordProblems(input.password, input.email);
    if (problems.length > 0) throw errors.validationFailed(problems);
    const anonymous = await this.#anonymousFrom(anonymousToken);
    const passwordHash = await hashPassword(input.password);
    const afterCommit: (() => Promise<void>)[] = [];
    const afterRollback: (() => Promise<void>)[] = [];
    const { user, issued } = await this.#atomically(afterRollback, async (trx) => {
      if (await findUserByEmail(trx, input.email)) throw errors.emailTaken();
      const user = await createAccount(trx, { email: input.email, name, passwordHash });
      if (anonymous) await this.#claim(trx, anonymous, user, afterCommit, afterRollback);
      const issued = await startUserSession(
        trx,
        user.id,
        user.personalOrganizationId,
        this.settings.refreshTokenTtlSeconds,
        meta,
      );
      return { user, issued };
    });
    await this.#finishClaim(anonymousToken, afterCommit);
    return this.#authResult(user, user.personalOrganizationId, issued);
  }

  async login(
    input: { email: string; password: string },
    anonymousToken: string | null,
    meta: SessionMeta,
  ): Promise<SignedInView> {
    const found = await findUserByEmail(this.db, input.email);
    if (!found) {
      await verifyAgainstDecoy(input.password);
      throw errors.invalidCredentials();
    }
    if (!(await verifyPassword(found.password_hash, input.password))) throw errors.invalidCredentials();
    if (found.status !== "active") throw errors.accountDisabled();
    const anonymous = await this.#anonymousFrom(anonymousToken);
    const afterCommit: (() => Promise<void>)[] = [];
    const afterRollback: (() => Promise<void>)[] = [];
    const user = (await getUser(this.db, found.id)) as UserView;
    const issued = await this.#atomically(afterRollback, async (trx) => {
      await recordLogin(trx, user.id);
      if (anonymous) await this.#claim(trx, anonymous, user, afterCommit, afterRollback);
      return startUserSession(trx, user.id, user.personalOrganizationId, this.settings.refreshTokenTtlSeconds, meta);
    });
    await this.#finishClaim(anonymousToken, afterCommit);
    return this.#authResult((await getUser(this.db, user.id)) as UserView, user.personalOrganizationId, issued);
  }

  async refresh(refreshToken: string, organizationId?: string): Promise<TokensView> {
    const rotation = await rotateRefreshToken(this.db, refreshToken, {
      ttlSeconds: this.settings.refreshTokenTtlSeconds,
      graceSeconds: this.settings.refreshReuseGraceSeconds,
      ...(organizationId ? { organizationId } : {}),
      onRevoked: async (sessionId) => void (await this.#markRevoked(sessionId)),
    });
    const access = await this.signer.signAccess({
      sub: rotation.userId,
      sid: rotation.sessionId,
      org: rotation.organizationId,
    });
    return {
      organizationId: rotation.organizationId,
      accessToken: access.token,
      expiresAt: access.expiresAt.toISOString(),
      refreshToken: rotation.refreshToken,
      refreshExpiresAt: rotation.refreshExpiresAt.toISOString(),
    };
  }

  /** Ends the caller's session, or all of the user's sessions. */
  async logout(principal: Extract<Principal, { kind: "user" }>, everywhere: boolean): Promise<void> {
    const sessions = everywhere ? await openSessionIds(this.db, principal.userId) : [principal.sessionId];
    let marked = true;
    for (const sessionId of sessions) {
      await endSession(this.db, sessionId, "logout");
      marked = (await this.#markRevoked(sessionId)) && marked;
    }
    // The sessions are ended, but their access tokens would live on until
    // they expire: say so, and let the client retry (logout is idempotent).
    if (!marked) throw errors.dependencyUnavailable("kv", 2);
  }

  /**
   * The principal a bearer token names. Throws a 401 with the precise reason
   * for a token that is present but unusable; returns null when there is none.
   */
  async authenticate(authorization: string | undefined): Promise<Principal | null> {
    const { principal, revocationMarker } = await this.resolve(authorization);
    if (revocationMarker && principal?.kind === "user" && (await this.isSessionEnded(principal.sessionId))) {
      throw errors.sessionRevoked();
    }
    return principal;
  }

  /**
   * `authenticate` without the session check: the caller must refuse the
   * request when `revocationMarker` exists in the key-value store (the HTTP
   * layer folds that check into the rate-limit decision's round trip) and,
   * when the store cannot answer, ask `isSessionEndedInDatabase`.
   */
  async resolve(authorization: string | undefined): Promise<Resolution> {
    if (authorization === undefined || authorization === "") return { principal: null, revocationMarker: null };
    // The scheme is case-insensitive (RFC 9110), and one or more spaces may follow it.
    const match = /^bearer +([\x21-\x7e]{1,4096}) *$/i.exec(authorization);
    if (!match) throw errors.tokenInvalid();
    const token = match[1] as string;
    switch (opaqueKind(token)) {
      case "anon": {
        const session = await resolveAnonymousSession(
          this.db,
          this.kv,
          token,
          this.settings.anonymousSessionTtlSeconds,
        );
        if (!session) throw errors.anonymousSessionExpired();
        return {
          principal: { kind: "anonymous", sessionId: session.id, organizationId: session.organizationId },
          revocationMarker: null,
        };
      }
      case "sk":
        return { principal: await this.#apiKeyPrincipal(token), revocationMarker: null };
      case "rt":
        throw errors.tokenInvalid();
      default: {
        const verified = await this.signer.verifyAccess(token);
        if (!verified.ok) throw verified.reason === "expired" ? errors.tokenExpired() : errors.tokenInvalid();
        const { sub, sid, org } = verified.claims;
        const role = await this.roleOf(sub, org);
        if (!role) throw errors.tokenInvalid();
        return {
          principal: { kind: "user", userId: sub, sessionId: sid, organizationId: org, role },
          revocationMarker: revocationMarker(sid),
        };
      }
    }
  }

  /**
   * A user's role in an organization, cached in-process and dropped in every
   * process when memberships change (forgetRole).
   */
  async roleOf(userId: string, organizationId: string): Promise<Role | null> {
    const cached = await this.#memberships().getOrLoad(
      `${organizationId}:${userId}`,
      async () => (await roleIn(this.db, userId, organizationId)) ?? "none",
    );
    return cached === "none" || cached === undefined ? null : (cached as Role);
  }

  async forgetRole(userId: string, organizationId: string): Promise<void> {
    await this.caches.local.invalidate(MEMBERSHIPS, `${organizationId}:${userId}`);
    await this.#announceEnded(`member:${userId}:${organizationId}`);
  }

  /**
   * Hears, in every process, that access ended: `session:<id>` (logout, a
   * reused refresh token), `key:<id>` (an API key revoked),
   * `member:<userId>:<organizationId>` (a membership changed or removed).
   * For what holds a connection open past one request (the change feed),
   * which must stop serving it at once.
   */
  watchEnded(listener: (what: string) => void): Promise<Unsubscribe> {
    return this.kv.subscribe(ENDED_CHANNEL, listener);
  }

  async #announceEnded(what: string): Promise<void> {
    try {
      await this.kv.publish(ENDED_CHANNEL, what);
    } catch (error) {
      this.logger.error(
        { err: error, what },
        "could not announce ended access; open connections close on their next check",
      );
    }
  }

  /**
   * Whether an anonymous session can still own new rows, holding its row
   * (FOR SHARE) until `trx` ends: a module creating a row for the session
   * does so either before a concurrent claim, and the row moves with the
   * rest, or after it, and is refused with the dead session.
   */
  async holdAnonymousSession(trx: Transaction<Tables>, sessionId: string): Promise<boolean> {
    const session = await trx
      .selectFrom("anonymous_sessions")
      .select("claimed_at")
      .where("id", "=", sessionId)
      .forShare()
      .executeTakeFirst();
    return session !== undefined && session.claimed_at === null;
  }

  /** A new key in the user's active organization; the only copy of its secret is in the answer. */
  createApiKey(
    principal: Extract<Principal, { kind: "user" }>,
    input: { name: string; scopes: ApiKeyScope[] },
  ): Promise<NewApiKeyView> {
    return createApiKey(this.db, { ...principal, ...input });
  }

  /** Keys of the user's active organization: admins see all of them, members their own. */
  listApiKeys(
    principal: Extract<Principal, { kind: "user" }>,
    limit: number,
    cursor?: string,
  ): Promise<Page<ApiKeyView>> {
    return listApiKeys(this.db, principal, limit, cursor);
  }

  /** Revokes an API key; every process stops accepting it at once. */
  async revokeApiKey(scope: { userId: string; organizationId: string; role: Role }, keyId: string): Promise<void> {
    const { prefix } = await revokeApiKey(this.db, scope, keyId);
    await this.caches.local.invalidate(API_KEYS, prefix);
    await this.#announceEnded(`key:${keyId}`);
  }

  /** Whether an ended session's marker is set (asking Postgres when the key-value store cannot answer). */
  async isSessionEnded(sessionId: string): Promise<boolean> {
    try {
      return (await this.kv.get(revocationMarker(sessionId))) !== null;
    } catch {
      // The key-value store is down: ask Postgres, which always knows.
      return this.isSessionEndedInDatabase(sessionId);
    }
  }

  async isSessionEndedInDatabase(sessionId: string): Promise<boolean> {
    return !(await isSessionOpen(this.db, sessionId));
  }

  async #apiKeyPrincipal(token: string): Promise<Principal> {
    const prefix = apiKeyPrefix(token);
    if (!prefix) throw errors.tokenInvalid();
    const keys = this.caches.local.cache<ApiKeyRecord>(API_KEYS, { ttlMs: LOOKUP_TTL_MS, max: 10_000 });
    const key = await keys.getOrLoad(prefix, () => findApiKey(this.db, prefix));
    if (!key || !apiKeyMatches(key, token)) throw errors.tokenInvalid();
    // Refresh the cached copy only if it is still the one this request read:
    // a revocation that arrived meanwhile must not be overwritten by a live copy.
    if ((await recordApiKeyUse(this.db, key)) && keys.get(prefix) === key) {
      keys.set(prefix, { ...key, lastUsedAt: Date.now() });
    }
    const role = await this.roleOf(key.userId, key.organizationId);
    if (!role) throw errors.tokenInvalid();
    return {
      kind: "api_key",
      keyId: key.id,
      userId: key.userId,
      organizationId: key.organizationId,
      scopes: key.scopes as ApiKeyScope[],
      role,
    };
  }

  #memberships() {
    return this.caches.local.cache<string>(MEMBERSHIPS, { ttlMs: LOOKUP_TTL_MS, max: 50_000 });
  }

  /** The profile GET /v1/me shows, cache-aside in seed 000's user: namespace (900 s). */
  async profile(userId: string): Promise<{ user: UserView; preferences: PreferencesView }> {
    const profile = await this.caches.ns("user").getOrLoad(`profile:${userId}`, async () => {
      const [user, preferences] = await Promise.all([getUser(this.db, userId), getPreferences(this.db, userId)]);
      return user && preferences ? { user, preferences } : undefined;
    });
    if (!profile) throw errors.userNotFound();
    return profile;
  }

  /** Changes some of a user's preferences and drops the cached profile everywhere. */
  async updatePreferences(userId: string, patch: PreferencesPatchInput): Promise<PreferencesView> {
    const updated = await updatePreferences(this.db, userId, patch);
    if (!updated) throw errors.userNotFound();
    await this.forgetProfile(userId);
    return updated;
  }

  async forgetProfile(userId: string): Promise<void> {
    await this.caches.ns("user").invalidate(`profile:${userId}`);
  }

  async #anonymousFrom(token: string | null) {
    if (!token) return null;
    const session = await resolveAnonymousSession(this.db, this.kv, token, this.settings.anonymousSessionTtlSeconds);
    if (!session) throw errors.anonymousSessionExpired();
    return session;
  }

  async #claim(
    trx: Transaction<Tables>,
    anonymous: { id: string; organizationId: string },
    user: UserView,
    afterCommit: (() => Promise<void>)[],
    afterRollback: (() => Promise<void>)[],
  ) {
    const claimed = await trx
      .updateTable("anonymous_sessions")
      .set({ claimed_by_user_id: user.id, claimed_at: new Date() })
      .where("id", "=", anonymous.id)
      .where("claimed_at", "is", null)
      .returning("expires_at")
      .executeTakeFirst();
    if (!claimed) throw errors.anonymousSessionExpired();
    await this.transferHooks.run({
      trx,
      anonymousSessionId: anonymous.id,
      anonymousSessionExpiresAt: claimed.expires_at,
      fromOrganizationId: anonymous.organizationId,
      userId: user.id,
      toOrganizationId: user.personalOrganizationId,
      afterCommit: (fn) => afterCommit.push(fn),
      afterRollback: (fn) => afterRollback.push(fn),
    });
  }

  async #finishClaim(anonymousToken: string | null, afterCommit: (() => Promise<void>)[]) {
    if (!anonymousToken) return;
    await forgetAnonymousToken(this.kv, anonymousToken).catch((error) =>
      this.logger.warn({ err: error }, "could not drop a claimed anonymous session from the cache"),
    );
    for (const fn of afterCommit) {
      await fn().catch((error) => this.logger.error({ err: error }, "ownership transfer clean-up failed"));
    }
  }

  /** Runs the account write in one transaction, mapping a lost email race and hook failures to their codes. */
  async #atomically<T>(
    afterRollback: (() => Promise<void>)[],
    fn: (trx: Transaction<Tables>) => Promise<T>,
  ): Promise<T> {
    try {
      return await transaction(this.db, fn);
    } catch (error) {
      for (const undo of afterRollback) {
        await undo().catch((cause) => this.logger.error({ err: cause }, "ownership transfer undo failed"));
      }
      if (error instanceof AppError) throw error;
      if (sqlState(error) === "23505") throw errors.emailTaken();
      if (error instanceof OwnershipTransferError) {
        this.logger.error({ err: error.cause, hook: error.hook }, "ownership transfer failed; rolled back");
        throw errors.transferFailed(error);
      }
      throw error;
    }
  }

  async #authResult(
    user: UserView,
    organizationId: string,
    issued: Awaited<ReturnType<typeof startUserSession>>,
  ): Promise<SignedInView> {
    const access = await this.signer.signAccess({ sub: user.id, sid: issued.sessionId, org: organizationId });
    return {
      user,
      organizationId,
      accessToken: access.token,
      expiresAt: access.expiresAt.toISOString(),
      refreshToken: issued.refreshToken,
      refreshExpiresAt: issued.refreshExpiresAt.toISOString(),
    };
  }

  /** Access tokens of an ended session stop working before they expire: a marker lives as long as they could. */
  async #markRevoked(sessionId: string): Promise<boolean> {
    try {
      await this.kv.set(revocationMarker(sessionId), "1", { ttlMs: this.settings.accessTokenTtlSeconds * 1000 });
      await this.#announceEnded(`session:${sessionId}`);
      return true;
    } catch (error) {
      this.logger.error({ err: error, sessionId }, "could not record a revoked session in the key-value store");
      return false;
    }
  }
}

/** Where identity announces ended access (watchEnded). */
const ENDED_CHANNEL = "auth:ended";

/** The key-value key that exists once a user session has ended. */
function revocationMarker(sessionId: string): string {
  return `auth:revoked:${sessionId}`;
}
