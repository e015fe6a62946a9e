import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { sql } from "kysely";
import { Type } from "typebox";
import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { StrataModule } from "../../src/runtime/module.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { client } from "../support/http.ts";

export interface IdentityHarness {
  platform: Platform;
  dispose(): Promise<void>;
}

/**
 * A module of the tests' own: a table of owned rows, a transfer hook that
 * moves them, and an AI-class route, registered the way real modules are.
 */
const notesMigration = {
  version: 9001,
  name: "test_probe_notes",
  async up(db: any) {
    await sql`create table probe_notes (
      id serial primary key, body text not null,
      user_id uuid, anonymous_session_id uuid, organization_id uuid not null,
      check ((user_id is null) <> (anonymous_session_id is null)))`.execute(db);
  },
  async down(db: any) {
    await sql`drop table probe_notes`.execute(db);
  },
};

function probeModule(): StrataModule {
  return {
    name: "probe",
    migrations: [notesMigration],
    async ownershipTransfer({ trx, anonymousSessionId, userId, toOrganizationId }) {
      await sql`update probe_notes set user_id = ${userId}, anonymous_session_id = null, organization_id = ${toOrganizationId}
        where anonymous_session_id = ${anonymousSessionId}`.execute(trx);
    },
    routes(app) {
      app.post(
        "/probe/ai",
        { config: { rateLimit: "ai" }, schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } } },
        async () => ({
          ok: true,
        }),
      );
    },
  };
}

/** Every numbered point of the identity issue, over HTTP, against one platform. */
export function identityContract(name: string, open: () => Promise<IdentityHarness>) {
  describe(`identity: ${name}`, () => {
    let harness: IdentityHarness;
    let platform: Platform;
    let app: App;
    let call: ReturnType<typeof client>;
    const db = () => platform.database.db as any;

    before(async () => {
      harness = await open();
      platform = harness.platform;
      const probe = probeModule();
      await createMigrator(platform.database, [probe]).up();
      platform.identity.transferHooks.register(
        "probe_notes",
        async ({ trx, anonymousSessionId, userId, toOrganizationId }) => {
          await sql`update probe_notes set user_id = ${userId}, anonymous_session_id = null, organization_id = ${toOrganizationId}
          where anonymous_session_id = ${anonymousSessionId}`.execute(trx);
        },
      );
      app = await buildServer(platform, [probe]);
      call = client(app);
    });
    after(async () => {
      await app?.close();
      await harness?.dispose();
    });

    const email = () => `user-${randomUUID().slice(0, 8)}@example.com`;
    const password = "correct horse battery staple";
    async function register(overrides: Record<string, unknown> = {}, token?: string) {
      const body = { email: email(), password, name: "Ada", ...overrides };
      const res = await call("POST", "/v1/auth/register", { body, ...(token ? { token } : {}) });
      return { ...res, email: body.email as string };
    }
    const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1] as string, "base64url").toString());
    /**
     * Moves a session's rotations back past the reuse grace window (1 s in
     * these harnesses) instead of waiting for it to pass: rotated_at is
     * written by the database's clock and judged by the server's, so neither
     * clock can be moved, but the recorded moment can.
     */
    const pastGrace = (accessToken: string) =>
      sql`update refresh_tokens set rotated_at = rotated_at - interval '2 seconds'
        where session_id = ${claimsOf(accessToken).sid} and rotated_at is not null`.execute(db());

    describe("accounts", () => {
      it("registers a user with a personal organization they own, and default preferences", async () => {
        const res = await register({ name: "Grace" });
        assert.equal(res.status, 201);
        assert.equal(res.body.user.name, "Grace");
        assert.equal(res.body.user.status, "active");
        assert.equal(res.body.organizationId, res.body.user.personalOrganizationId);
        assert.match(res.body.refreshToken, /^rt_/);
        assert.doesNotMatch(JSON.stringify(res.body), /password|hash/i);
        const me = await call("GET", "/v1/me", { token: res.body.accessToken });
        assert.equal(me.status, 200);
        assert.equal(me.body.role, "owner");
        assert.equal(me.body.user.email, res.email);
        const prefs = await call("GET", "/v1/me/preferences", { token: res.body.accessToken });
        assert.deepEqual(
          { theme: prefs.body.theme, fontSize: prefs.body.fontSize, notifications: prefs.body.notificationSettings },
          { theme: "system", fontSize: 16, notifications: { email: true, slack: false } },
        );
        const row = await db()
          .selectFrom("users")
          .select("password_hash")
          .where("email", "=", res.email)
          .executeTakeFirst();
        assert.match(row.password_hash, /^\$argon2id\$/);
      });

      it("answers 409 email_taken for an existing email, whatever its case", async () => {
        const first = await register();
        const again = await register({ email: first.email.toUpperCase() });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, "email_taken");
      });

      it("refuses weak passwords, malformed emails and unknown fields, changing nothing", async () => {
        const weak = await register({ password: "short" });
        assert.equal(weak.status, 400);
        assert.deepEqual(
          weak.body.error.details.fields.map((f: { field: string; code: string }) => [f.field, f.code]),
          [["body.password", "too_short"]],
        );
        const common = await register({ password: "password123" });
        assert.equal(common.body.error.details.fields[0].code, "too_weak");
        const badEmail = await register({ email: "not-an-email" });
        assert.equal(badEmail.body.error.details.fields[0].field, "body.email");
        const sneaky = await register({ role: "admin", userId: randomUUID() });
        assert.equal(sneaky.status, 400);
        assert.deepEqual(sneaky.body.error.details.fields.map((f: { field: string }) => f.field).sort(), [
          "body.role",
          "body.userId",
        ]);
        const missing = await call("POST", "/v1/auth/register", { body: { email: email() } });
        // The name is optional (it defaults to the address's local part); a password is not.
        assert.deepEqual(missing.body.error.details.fields.map((f: { field: string }) => f.field).sort(), [
          "body.password",
        ]);
        const count = await db()
          .selectFrom("users")
          .select(db().fn.countAll().as("n"))
          .where("email", "in", [weak.email, common.email, sneaky.email])
          .executeTakeFirst();
        assert.equal(Number(count.n), 0);
      });

      it("logs in with the right password only, with one error for a wrong password or unknown email", async () => {
        const user = await register();
        const wrong = await call("POST", "/v1/auth/login", {
          body: { email: user.email, password: "wrong password here" },
        });
        assert.equal(wrong.status, 401);
        assert.equal(wrong.body.error.code, "invalid_credentials");
        const unknown = await call("POST", "/v1/auth/login", { body: { email: email(), password } });
        assert.deepEqual(unknown.body.error, wrong.body.error);
        const ok = await call("POST", "/v1/auth/login", { body: { email: user.email.toUpperCase(), password } });
        assert.equal(ok.status, 200);
        assert.ok(ok.body.user.lastLoginAt);
      });

      it("starts a new session id at every login and registration", async () => {
        const user = await register();
        const a = await call("POST", "/v1/auth/login", { body: { email: user.email, password } });
        const b = await call("POST", "/v1/auth/login", { body: { email: user.email, password } });
        const sids = [user.body, a.body, b.body].map((r) => claimsOf(r.accessToken).sid);
        assert.equal(new Set(sids).size, 3);
      });

      it("merges preference changes and serves them fresh after the write", async () => {
        const user = await register();
        const token = user.body.accessToken;
        await call("GET", "/v1/me/preferences", { token }); // cached now
        const patched = await call("PATCH", "/v1/me/preferences", {
          token,
          body: { theme: "dark", notificationSettings: { slack: true } },
        });
        assert.equal(patched.status, 200);
        assert.equal(patched.body.theme, "dark");
        assert.deepEqual(patched.body.notificationSettings, { email: true, slack: true });
        const read = await call("GET", "/v1/me/preferences", { token });
        assert.equal(read.body.theme, "dark", "the cached profile was invalidated by the write");
        const bad = await call("PATCH", "/v1/me/preferences", {
          token,
          body: { fontSize: 99, theme: "neon", userId: "x" },
        });
        assert.equal(bad.status, 400);
        assert.deepEqual(bad.body.error.details.fields.map((f: { field: string }) => f.field).sort(), [
          "body.fontSize",
          "body.theme",
          "body.userId",
        ]);
      });
    });

    describe("sessions and tokens", () => {
      it("rotates refresh tokens; replaying a rotated one after the grace window ends the whole family", async () => {
        const user = await register();
        const first = user.body.refreshToken;
        const rotated = await call("POST", "/v1/auth/refresh", { body: { refreshToken: first } });
        assert.equal(rotated.status, 200);
        assert.notEqual(rotated.body.refreshToken, first);
        assert.equal(claimsOf(rotated.body.accessToken).sid, claimsOf(user.body.accessToken).sid, "same session");
        await pastGrace(rotated.body.accessToken);
        const replay = await call("POST", "/v1/auth/refresh", { body: { refreshToken: first } });
        assert.equal(replay.status, 401);
        assert.equal(replay.body.error.code, "refresh_token_reused");
        const successor = await call("POST", "/v1/auth/refresh", { body: { refreshToken: rotated.body.refreshToken } });
        assert.equal(successor.body.error.code, "session_revoked", "the thief's and the owner's tokens both died");
        const access = await call("GET", "/v1/me", { token: rotated.body.accessToken });
        assert.equal(access.status, 401);
        assert.equal(access.body.error.code, "session_revoked");
      });

      it("lets two tabs refresh with the same token at once, within the grace window", async () => {
        const user = await register();
        const [a, b] = await Promise.all([
          call("POST", "/v1/auth/refresh", { body: { refreshToken: user.body.refreshToken } }),
          call("POST", "/v1/auth/refresh", { body: { refreshToken: user.body.refreshToken } }),
        ]);
        assert.deepEqual([a.status, b.status], [200, 200]);
        assert.notEqual(a.body.refreshToken, b.body.refreshToken);
        for (const res of [a, b]) {
          assert.equal(
            (await call("POST", "/v1/auth/refresh", { body: { refreshToken: res.body.refreshToken } })).status,
            200,
          );
        }
      });

      it("never mints a token from a revoked family, even when rotations race the revocation", async () => {
        const user = await register();
        const first = await call("POST", "/v1/auth/refresh", { body: { refreshToken: user.body.refreshToken } });
        await pastGrace(first.body.accessToken);
        // A replay (revokes the family) races ten rotations of the live token.
        const results = await Promise.all([
          call("POST", "/v1/auth/refresh", { body: { refreshToken: user.body.refreshToken } }),
          ...Array.from({ length: 10 }, () =>
            call("POST", "/v1/auth/refresh", { body: { refreshToken: first.body.refreshToken } }),
          ),
        ]);
        const minted = results.filter((r) => r.status === 200);
        for (const res of minted) {
          const next = await call("POST", "/v1/auth/refresh", { body: { refreshToken: res.body.refreshToken } });
          assert.equal(next.status, 401, "any token minted before the revocation is dead after it");
        }
        const { n } = await db()
          .selectFrom("refresh_tokens")
          .innerJoin("user_sessions", "user_sessions.id", "refresh_tokens.session_id")
          .select(db().fn.countAll().as("n"))
          .where("user_sessions.session_end", "is not", null)
          .where("refresh_tokens.created_at", ">", sql`user_sessions.session_end`)
          .executeTakeFirst();
        assert.equal(Number(n), 0, "no refresh token was created after its family was revoked");
      });

      it("refuses tampered, unsigned, wrong-audience, expired and misplaced tokens", async () => {
        const user = await register();
        const token: string = user.body.accessToken;
        const [header, payload, signature] = token.split(".") as [string, string, string];
        const tamperedPayload = Buffer.from(JSON.stringify({ ...claimsOf(token), org: randomUUID() })).toString(
          "base64url",
        );
        const key = createHmac("sha256", platform.signingSecret).update("strata:jwt:v1").digest();
        const claims = claimsOf(token);
        const sign = (edit: (j: SignJWT) => SignJWT) =>
          edit(
            new SignJWT({ sid: claims.sid, org: claims.org })
              .setProtectedHeader({ alg: "HS256" })
              .setSubject(claims.sub),
          )
            .setIssuedAt()
            .sign(key);
        const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
        const cases: [string, string][] = [
          [`${header}.${tamperedPayload}.${signature}`, "token_invalid"],
          [none, "token_invalid"],
          [
            await sign((j) => j.setIssuer("strata").setAudience("someone-else").setExpirationTime("5m")),
            "token_invalid",
          ],
          [await sign((j) => j.setIssuer("evil").setAudience("strata-api").setExpirationTime("5m")), "token_invalid"],
          [
            await sign((j) =>
              j
                .setIssuer("strata")
                .setAudience("strata-api")
                .setExpirationTime(Math.floor(Date.now() / 1000) - 60),
            ),
            "token_expired",
          ],
          [user.body.refreshToken, "token_invalid"],
          ["anon_doesnotexist", "anonymous_session_expired"],
        ];
        for (const [bad, code] of cases) {
          const res = await call("GET", "/v1/me", { token: bad });
          assert.equal(res.status, 401, bad);
          assert.equal(res.body.error.code, code, bad);
        }
        const basic = await call("GET", "/v1/me", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
        assert.equal(basic.body.error.code, "token_invalid");
        const none401 = await call("GET", "/v1/me");
        assert.equal(none401.body.error.code, "authentication_required");
        // A correctly signed token for the right audience works, so the cases above failed for their reason.
        const good = await sign((j) => j.setIssuer("strata").setAudience("strata-api").setExpirationTime("5m"));
        assert.equal((await call("GET", "/v1/me", { token: good })).status, 200);
      });

      it("logs out: the session's access and refresh tokens stop working at once", async () => {
        const user = await register();
        const out = await call("POST", "/v1/auth/logout", { token: user.body.accessToken });
        assert.equal(out.status, 204);
        assert.equal(
          (await call("GET", "/v1/me", { token: user.body.accessToken })).body.error.code,
          "session_revoked",
        );
        const refresh = await call("POST", "/v1/auth/refresh", { body: { refreshToken: user.body.refreshToken } });
        assert.equal(refresh.body.error.code, "session_revoked");
      });

      it("logs out everywhere", async () => {
        const user = await register();
        const other = await call("POST", "/v1/auth/login", { body: { email: user.email, password } });
        await call("POST", "/v1/auth/logout?allSessions=true", { token: user.body.accessToken });
        assert.equal((await call("GET", "/v1/me", { token: other.body.accessToken })).status, 401);
      });

      it("authenticates server-to-server calls with API keys, shown once, scoped and revocable", async () => {
        const user = await register();
        const token = user.body.accessToken;
        const created = await call("POST", "/v1/api-keys", { token, body: { name: "ci", scopes: ["read"] } });
        assert.equal(created.status, 201);
        const key: string = created.body.key;
        assert.match(key, /^sk_/);
        assert.ok(key.startsWith(created.body.apiKey.prefix));
        const listed = await call("GET", "/v1/api-keys", { token });
        assert.equal(listed.body.items.length, 1);
        assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(key.slice(-20)));
        const me = await call("GET", "/v1/me", { token: key });
        assert.equal(me.status, 200);
        assert.equal(me.body.authenticatedBy, "api_key");
        const used = await call("GET", "/v1/api-keys", { token });
        assert.ok(used.body.items[0].lastUsedAt, "last use is recorded");
        const write = await call("PATCH", "/v1/me/preferences", { token: key, body: { theme: "dark" } });
        assert.equal(write.status, 403);
        assert.equal(write.body.error.code, "insufficient_scope");
        const manage = await call("POST", "/v1/api-keys", { token: key, body: { name: "x", scopes: ["read"] } });
        assert.equal(manage.status, 403);
        assert.equal((await call("DELETE", `/v1/api-keys/${created.body.apiKey.id}`, { token })).status, 204);
        const revoked = await call("GET", "/v1/me", { token: key });
        assert.equal(revoked.status, 401);
        assert.equal(revoked.body.error.code, "token_invalid");
        const other = await register();
        const foreign = await call("DELETE", `/v1/api-keys/${created.body.apiKey.id}`, {
          token: other.body.accessToken,
        });
        assert.equal(foreign.status, 404, "another principal's key is not found");
      });
    });

    describe("from anonymous to account", () => {
      async function anonymousWithNotes(count: number) {
        const anon = await call("POST", "/v1/auth/anonymous");
        assert.equal(anon.status, 201);
        assert.match(anon.body.accessToken, /^anon_/);
        const hours = (Date.parse(anon.body.expiresAt) - Date.now()) / 3_600_000;
        assert.ok(hours > 23.9 && hours <= 24, `24 h expiry (${hours})`);
        const principal = await platform.identity.authenticate(`Bearer ${anon.body.accessToken}`);
        assert.equal(principal?.kind, "anonymous");
        const session = principal as { sessionId: string; organizationId: string };
        for (let i = 0; i < count; i++) {
          await sql`insert into probe_notes (body, anonymous_session_id, organization_id)
            values (${`note ${i}`}, ${session.sessionId}, ${session.organizationId})`.execute(db());
        }
        return { token: anon.body.accessToken as string, sessionId: session.sessionId };
      }
      const notesOf = async (column: "anonymous_session_id" | "user_id", id: string) =>
        (
          await sql<{
            body: string;
            organization_id: string;
          }>`select body, organization_id from probe_notes where ${sql.ref(column)} = ${id} order by id`.execute(db())
        ).rows;

      it("slides an anonymous session's expiry with use, and refuses it once expired", async () => {
        const anon = await anonymousWithNotes(0);
        const hash = (await import("node:crypto")).createHash("sha256").update(anon.token).digest("hex");
        // As if last seen two minutes ago, with ten minutes left.
        await sql`update anonymous_sessions set last_seen_at = now() - interval '2 minutes',
          expires_at = now() + interval '10 minutes' where id = ${anon.sessionId}`.execute(db());
        await platform.kv.del(`session:${hash}`);
        await call("POST", "/v1/probe/ai", { token: anon.token });
        const slid = await sql<{ hours: number }>`select extract(epoch from expires_at - now()) / 3600 as hours
          from anonymous_sessions where id = ${anon.sessionId}`.execute(db());
        assert.ok(Number(slid.rows[0]?.hours) > 23.9, "using the session pushed its expiry 24 h ahead");
        await sql`update anonymous_sessions set expires_at = now() - interval '1 second' where id = ${anon.sessionId}`.execute(
          db(),
        );
        await platform.kv.del(`session:${hash}`);
        const expired = await call("POST", "/v1/probe/ai", { token: anon.token });
        assert.equal(expired.status, 401);
        assert.equal(expired.body.error.code, "anonymous_session_expired");
      });

      it("keeps anonymous callers out of account routes", async () => {
        const anon = await call("POST", "/v1/auth/anonymous");
        const me = await call("GET", "/v1/me", { token: anon.body.accessToken });
        assert.equal(me.status, 403);
        assert.equal(me.body.error.code, "account_required");
      });

      it("moves everything the session owns to the new account on registration, in one step", async () => {
        const anon = await anonymousWithNotes(3);
        const res = await register({}, anon.token);
        assert.equal(res.status, 201);
        const moved = await notesOf("user_id", res.body.user.id);
        assert.equal(moved.length, 3);
        assert.ok(moved.every((n) => n.organization_id === res.body.user.personalOrganizationId));
        assert.equal((await notesOf("anonymous_session_id", anon.sessionId)).length, 0);
        const reuse = await call("GET", "/v1/organizations", { token: anon.token });
        assert.equal(reuse.body.error.code, "anonymous_session_expired", "a claimed session's token stops working");
      });

      it("moves the session's data on login too", async () => {
        const user = await register();
        const anon = await anonymousWithNotes(2);
        const res = await call("POST", "/v1/auth/login", { token: anon.token, body: { email: user.email, password } });
        assert.equal(res.status, 200);
        assert.equal((await notesOf("user_id", user.body.user.id)).length, 2);
      });

      it("rolls the whole transfer back when a hook fails: nothing moves and no account is created", async () => {
        const anon = await anonymousWithNotes(2);
        platform.identity.transferHooks.register("failing", async ({ trx, anonymousSessionId }) => {
          await sql`update probe_notes set body = 'half-moved' where anonymous_session_id = ${anonymousSessionId}`.execute(
            trx,
          );
          throw new Error("simulated failure in a module's hook");
        });
        try {
          const res = await register({}, anon.token);
          assert.equal(res.status, 503);
          assert.equal(res.body.error.code, "ownership_transfer_failed");
          assert.ok(Number(res.headers["retry-after"]) > 0);
          const still = await notesOf("anonymous_session_id", anon.sessionId);
          assert.deepEqual(
            still.map((n) => n.body),
            ["note 0", "note 1"],
            "the anonymous data is exactly as it was",
          );
          const login = await call("POST", "/v1/auth/login", { body: { email: res.email, password } });
          assert.equal(login.status, 401, "the account was not created");
          const stillWorks = await call("GET", "/v1/organizations", { token: anon.token });
          assert.equal(stillWorks.body.error.code, "account_required", "the anonymous session is still alive");
        } finally {
          platform.identity.transferHooks.unregister("failing");
        }
        const retry = await register({}, anon.token);
        assert.equal(retry.status, 201);
        assert.equal((await notesOf("user_id", retry.body.user.id)).length, 2);
      });

      it("answers 409 for an existing email and leaves the anonymous data untouched", async () => {
        const existing = await register();
        const anon = await anonymousWithNotes(1);
        const res = await register({ email: existing.email }, anon.token);
        assert.equal(res.status, 409);
        assert.equal(res.body.error.code, "email_taken");
        assert.equal((await notesOf("anonymous_session_id", anon.sessionId)).length, 1);
      });
    });

    describe("organizations and members", () => {
      it("creates, lists with a cursor, reads and renames organizations; outsiders get 404", async () => {
        const owner = await register();
        const token = owner.body.accessToken;
        const created = await call("POST", "/v1/organizations", { token, body: { name: "Acme" } });
        assert.equal(created.status, 201);
        assert.equal(created.body.role, "owner");
        const page1 = await call("GET", "/v1/organizations?limit=1", { token });
        assert.equal(page1.body.items.length, 1);
        assert.ok(page1.body.nextCursor);
        const page2 = await call("GET", `/v1/organizations?limit=1&cursor=${page1.body.nextCursor}`, { token });
        assert.equal(page2.body.items.length, 1);
        assert.equal(page2.body.nextCursor, null);
        assert.notEqual(page1.body.items[0].id, page2.body.items[0].id);
        const badCursor = await call("GET", "/v1/organizations?cursor=zzz", { token });
        assert.equal(badCursor.body.error.details.fields[0].field, "query.cursor");
        const renamed = await call("PATCH", `/v1/organizations/${created.body.id}`, {
          token,
          body: { name: "Acme Corp", settings: { maxBatchSize: 50, allowedModels: ["gpt-4"] } },
        });
        assert.equal(renamed.body.name, "Acme Corp");
        assert.deepEqual(renamed.body.settings, { maxBatchSize: 50, allowedModels: ["gpt-4"] });
        const outsider = await register();
        const peek = await call("GET", `/v1/organizations/${created.body.id}`, { token: outsider.body.accessToken });
        assert.equal(peek.status, 404);
        assert.equal(peek.body.error.code, "organization_not_found");
        const plan = await call("PATCH", `/v1/organizations/${created.body.id}`, {
          token,
          body: { plan: "enterprise" },
        });
        assert.equal(plan.body.error.details.fields[0].code, "unknown_field", "the plan is not the client's to set");
      });

      it("adds members with roles, enforces who may do what, and keeps the last owner", async () => {
        const owner = await register();
        const member = await register();
        const org = await call("POST", "/v1/organizations", { token: owner.body.accessToken, body: { name: "Team" } });
        const orgUrl = `/v1/organizations/${org.body.id}`;
        const added = await call("POST", `${orgUrl}/members`, {
          token: owner.body.accessToken,
          body: { email: member.email, role: "member" },
        });
        assert.equal(added.status, 201);
        const twice = await call("POST", `${orgUrl}/members`, {
          token: owner.body.accessToken,
          body: { email: member.email, role: "member" },
        });
        assert.equal(twice.body.error.code, "already_member");
        const nobody = await call("POST", `${orgUrl}/members`, {
          token: owner.body.accessToken,
          body: { email: email(), role: "member" },
        });
        assert.equal(nobody.body.error.code, "user_not_found");
        // The member switches into the organization through refresh.
        const switched = await call("POST", "/v1/auth/refresh", {
          body: { refreshToken: member.body.refreshToken, organizationId: org.body.id },
        });
        assert.equal(switched.status, 200);
        assert.equal(switched.body.organizationId, org.body.id);
        const mt = switched.body.accessToken;
        assert.equal((await call("GET", "/v1/me", { token: mt })).body.role, "member");
        assert.equal((await call("GET", orgUrl, { token: mt })).status, 200);
        const denied = await call("PATCH", orgUrl, { token: mt, body: { name: "Mine now" } });
        assert.equal(denied.status, 403);
        assert.equal(denied.body.error.code, "insufficient_role");
        const members = await call("GET", `${orgUrl}/members`, { token: mt });
        assert.equal(members.body.items.length, 2);
        const lastOwner = await call("DELETE", `${orgUrl}/members/${owner.body.user.id}`, {
          token: owner.body.accessToken,
        });
        assert.equal(lastOwner.status, 409);
        assert.equal(lastOwner.body.error.code, "last_owner");
        const promoted = await call("PATCH", `${orgUrl}/members/${member.body.user.id}`, {
          token: owner.body.accessToken,
          body: { role: "admin" },
        });
        assert.equal(promoted.body.role, "admin");
        assert.equal((await call("GET", "/v1/me", { token: mt })).body.role, "admin", "the cached role was dropped");
        const removed = await call("DELETE", `${orgUrl}/members/${member.body.user.id}`, {
          token: owner.body.accessToken,
        });
        assert.equal(removed.status, 204);
        assert.equal((await call("GET", orgUrl, { token: owner.body.accessToken })).status, 200);
        const gone = await call("GET", "/v1/me", { token: mt });
        assert.equal(gone.status, 401, "a removed member's token no longer acts in the organization");
        const foreign = await call("POST", "/v1/auth/refresh", {
          body: { refreshToken: switched.body.refreshToken, organizationId: randomUUID() },
        });
        assert.equal(foreign.status, 404);
      });
    });

    describe("rate limits", () => {
      it("limits auth routes per client IP with 429, Retry-After and RateLimit headers", async () => {
        const ip = "127.9.9.9";
        const statuses: number[] = [];
        let limited: Awaited<ReturnType<typeof call>> | undefined;
        for (let i = 0; i < 21; i++) {
          const res = await call("POST", "/v1/auth/anonymous", { ip });
          statuses.push(res.status);
          if (res.status === 429) limited = res;
          else assert.equal(res.headers["ratelimit-limit"], "20");
        }
        assert.deepEqual(statuses, [...Array(20).fill(201), 429]);
        assert.equal(limited?.body.error.code, "rate_limited");
        assert.ok(Number(limited?.headers["retry-after"]) >= 1);
        assert.equal(limited?.headers["ratelimit-remaining"], "0");
        assert.equal(
          (await call("POST", "/v1/auth/anonymous", { ip: "127.9.9.10" })).status,
          201,
          "other IPs are unaffected",
        );
      });

      it("caps anonymous AI use per client IP too, so minting sessions buys nothing", async () => {
        const ip = "127.8.8.8";
        let allowed = 0;
        for (let s = 0; s < 5; s++) {
          const anon = await call("POST", "/v1/auth/anonymous", { ip });
          for (let i = 0; i < 10; i++) {
            if ((await call("POST", "/v1/probe/ai", { token: anon.body.accessToken, ip })).status === 200) allowed++;
          }
        }
        assert.equal(allowed, 30, "three sessions' worth from one IP, not five");
      });

      it("gives anonymous callers 10 AI requests a minute", async () => {
        const anon = await call("POST", "/v1/auth/anonymous");
        const statuses = [];
        for (let i = 0; i < 11; i++)
          statuses.push((await call("POST", "/v1/probe/ai", { token: anon.body.accessToken })).status);
        assert.deepEqual(statuses, [...Array(10).fill(200), 429]);
      });

      it("allows exactly 50 of 200 concurrent AI requests from one authenticated user", async () => {
        const user = await register();
        const results = await Promise.all(
          Array.from({ length: 200 }, () => call("POST", "/v1/probe/ai", { token: user.body.accessToken })),
        );
        assert.equal(results.filter((r) => r.status === 200).length, 50);
        assert.equal(results.filter((r) => r.status === 429).length, 150);
      });

      it("gives an admin of a shared organization seed 000's admin tier of 100 a minute", async () => {
        const owner = await register();
        const org = await call("POST", "/v1/organizations", {
          token: owner.body.accessToken,
          body: { name: "Shared" },
        });
        const switched = await call("POST", "/v1/auth/refresh", {
          body: { refreshToken: owner.body.refreshToken, organizationId: org.body.id },
        });
        const results = await Promise.all(
          Array.from({ length: 150 }, () => call("POST", "/v1/probe/ai", { token: switched.body.accessToken })),
        );
        assert.equal(results.filter((r) => r.status === 200).length, 100);
      });

      it("lets an operator's per-organization setting change its AI limit, but not the tenant", async () => {
        const owner = await register();
        const token = owner.body.accessToken;
        const self = await call("PATCH", `/v1/organizations/${owner.body.organizationId}`, {
          token,
          body: { settings: { rateLimits: { ai: 100000 } } },
        });
        assert.equal(self.status, 400, "a tenant cannot raise its own limits");
        assert.equal(self.body.error.details.fields[0].field, "body.settings.rateLimits");
        await sql`update organizations set settings = settings || '{"rate_limits": {"ai": 60}}'::jsonb
          where id = ${owner.body.organizationId}`.execute(db());
        await platform.identity.organizations.forgetLimits(owner.body.organizationId);
        const results = await Promise.all(Array.from({ length: 70 }, () => call("POST", "/v1/probe/ai", { token })));
        assert.equal(results.filter((r) => r.status === 200).length, 60);
      });
    });
  });
}
