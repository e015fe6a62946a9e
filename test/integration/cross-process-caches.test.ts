import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import { localCacheContract } from "../contract/local-cache.contract.ts";
import { tieredCacheContract } from "../contract/tiered-cache.contract.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { client } from "../support/http.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";

localCacheContract("redis", async () => {
  const prefix = `test:${randomUUID()}:`;
  return {
    a: await RedisKvStore.connect(services.redisUrl, prefix),
    b: await RedisKvStore.connect(services.redisUrl, prefix),
  };
});

tieredCacheContract("redis", async () => {
  const prefix = `test:${randomUUID()}:`;
  return {
    a: await RedisKvStore.connect(services.redisUrl, prefix),
    b: await RedisKvStore.connect(services.redisUrl, prefix),
  };
});

/**
 * Two API processes of one deployment (one Postgres, one Redis): what one
 * changes, the other sees at once, not after its caches' TTL (30 s).
 */
describe("two server processes sharing Postgres and Redis", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  const opened: Awaited<ReturnType<typeof openTestPlatform>>[] = [];
  const apps: App[] = [];
  let first: ReturnType<typeof client>;
  let second: ReturnType<typeof client>;

  before(async () => {
    scratch = await createScratchDatabase();
    const env = {
      DATABASE_URL: scratch.url,
      STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
      REDIS_URL: services.redisUrl,
      KV_KEY_PREFIX: `test:${randomUUID()}:`,
    };
    for (let i = 0; i < 2; i++) opened.push(await openTestPlatform(env));
    await createMigrator((opened[0] as (typeof opened)[number]).platform.database, []).up();
    for (const o of opened) apps.push(await buildServer(o.platform, []));
    first = client(apps[0] as App);
    second = client(apps[1] as App);
  });
  after(async () => {
    for (const app of apps) await app.close();
    for (const o of opened) await o.dispose();
    await scratch?.drop();
  });

  async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const value = await probe();
      if (done(value)) return value;
      if (Date.now() > deadline) assert.fail(`not seen within 3 s: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function register() {
    const res = await first("POST", "/v1/auth/register", {
      body: { email: `x-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple", name: "X" },
    });
    assert.equal(res.status, 201);
    return { token: res.body.accessToken as string, organizationId: res.body.organizationId as string };
  }

  it("applies an organization's new limit in the other process without waiting for the TTL", async () => {
    const user = await register();
    const before = await second("GET", "/v1/me", { token: user.token });
    assert.equal(before.headers["ratelimit-limit"], "600", "the free plan's API limit, now cached in both");
    assert.equal((await first("GET", "/v1/me", { token: user.token })).headers["ratelimit-limit"], "600");
    await sql`update organizations set plan = 'pro' where id = ${user.organizationId}`.execute(
      (opened[0] as (typeof opened)[number]).platform.database.db,
    );
    assert.equal(
      (await second("GET", "/v1/me", { token: user.token })).headers["ratelimit-limit"],
      "600",
      "still cached until someone says it changed",
    );
    await (opened[0] as (typeof opened)[number]).platform.identity.organizations.forgetLimits(user.organizationId);
    await eventually(
      () => second("GET", "/v1/me", { token: user.token }),
      (res) => res.headers["ratelimit-limit"] === "2400",
      "the pro plan's limit in the second process",
    );
  });

  it("refuses a revoked API key in the other process without waiting for the TTL", async () => {
    const user = await register();
    const created = await first("POST", "/v1/api-keys", { token: user.token, body: { name: "ci", scopes: ["read"] } });
    assert.equal(created.status, 201);
    const key = created.body.key as string;
    assert.equal((await second("GET", "/v1/me", { token: key })).status, 200, "the key's row is cached in the second");
    assert.equal((await first("DELETE", `/v1/api-keys/${created.body.apiKey.id}`, { token: user.token })).status, 204);
    const refused = await eventually(
      () => second("GET", "/v1/me", { token: key }),
      (res) => res.status === 401,
      "the revoked key refused by the second process",
    );
    assert.equal(refused.body.error.code, "token_invalid");
  });

  it("refuses a logged-out session's token in the other process at once", async () => {
    const user = await register();
    assert.equal((await second("GET", "/v1/me", { token: user.token })).status, 200);
    assert.equal((await first("POST", "/v1/auth/logout", { token: user.token })).status, 204);
    const refused = await second("GET", "/v1/me", { token: user.token });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, "session_revoked");
  });

  it("drops a removed member's role in the other process without waiting for the TTL", async () => {
    const owner = await register();
    const org = await first("POST", "/v1/organizations", { token: owner.token, body: { name: "Shared" } });
    assert.equal(org.status, 201, JSON.stringify(org.body));
    const member = await first("POST", "/v1/auth/register", {
      body: { email: `m-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple", name: "M" },
    });
    const added = await first("POST", `/v1/organizations/${org.body.id}/members`, {
      token: owner.token,
      body: { email: member.body.user.email, role: "member" },
    });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const switched = await first("POST", "/v1/auth/refresh", {
      body: { refreshToken: member.body.refreshToken, organizationId: org.body.id },
    });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    const token = switched.body.accessToken as string;
    assert.equal((await second("GET", "/v1/me", { token })).status, 200, "the membership is cached in the second");
    const removed = await first("DELETE", `/v1/organizations/${org.body.id}/members/${member.body.user.id}`, {
      token: owner.token,
    });
    assert.equal(removed.status, 204);
    await eventually(
      () => second("GET", "/v1/me", { token }),
      (res) => res.status === 401,
      "the removed member refused by the second process",
    );
  });
});
