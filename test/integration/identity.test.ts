import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { identityContract } from "../contract/identity.contract.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { client } from "../support/http.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";

async function serverPlatform() {
  const scratch = await createScratchDatabase();
  const opened = await openTestPlatform({
    DATABASE_URL: scratch.url,
    STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
    REDIS_URL: services.redisUrl,
    KV_KEY_PREFIX: `test:${randomUUID()}:`,
    REFRESH_REUSE_GRACE_SECONDS: "1",
  });
  return {
    platform: opened.platform,
    async dispose() {
      await opened.dispose();
      await scratch.drop();
    },
  };
}

identityContract("server (Postgres, Redis)", serverPlatform);

describe("identity when Redis goes down", () => {
  let harness: Awaited<ReturnType<typeof serverPlatform>>;
  let platform: Platform;
  let app: App;
  let call: ReturnType<typeof client>;
  before(async () => {
    harness = await serverPlatform();
    platform = harness.platform;
    await createMigrator(platform.database, []).up();
    app = await buildServer(platform, [
      {
        name: "probe",
        migrations: [],
        routes(v1) {
          v1.post("/probe/ai", { config: { rateLimit: "ai" } }, async () => ({ ok: true }));
        },
      },
    ]);
    call = client(app);
  });
  after(async () => {
    await app?.close();
    await harness?.dispose();
  });

  it("fails auth routes closed with 503, and serves other routes from Postgres", async () => {
    const user = await call("POST", "/v1/auth/register", {
      body: { email: `u-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple", name: "R" },
    });
    assert.equal(user.status, 201);
    await platform.kv.close();
    const login = await call("POST", "/v1/auth/login", {
      body: { email: user.body.user.email, password: "x".repeat(12) },
    });
    assert.equal(login.status, 503);
    assert.equal(login.body.error.code, "dependency_unavailable");
    assert.ok(Number(login.headers["retry-after"]) > 0);
    assert.equal((await call("POST", "/v1/auth/anonymous")).status, 503);
    const ai = await call("POST", "/v1/probe/ai", { token: user.body.accessToken });
    assert.equal(ai.status, 503, "AI routes fail closed too");
    assert.equal(ai.body.error.details.dependency, "kv");
    // Other routes fail open: authentication falls back to Postgres, caches miss.
    const me = await call("GET", "/v1/me", { token: user.body.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.headers["ratelimit-limit"], undefined, "no limit could be applied");
    const orgs = await call("GET", "/v1/organizations", { token: user.body.accessToken });
    assert.equal(orgs.status, 200);
  });
});
