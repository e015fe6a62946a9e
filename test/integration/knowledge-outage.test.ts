import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { knowledgeModule } from "../../src/modules/knowledge/index.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { client } from "../support/http.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../support/private-postgres.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";
import { TEST_PASSWORD } from "../support/writing-fixtures.ts";

/** The breaker's wait before its probe, shortened from the seed's 30 s so the test sees it pass. */
const HALF_OPEN_MS = 3_000;

/**
 * Seed 004's failover, against a real Postgres server that this test stops
 * and starts again while Strata keeps running: the breaker opens after three
 * consecutive failures, knowledge reads are served from the local copy
 * (marked stale, same access rules), writes answer 503 with Retry-After,
 * and once the server is back the probe closes the breaker.
 */
describe("knowledge while the database is down (server profile, real Postgres stopped and started)", () => {
  let postgres: PrivatePostgres;
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  let platform: Platform;
  let app: App;
  let call: ReturnType<typeof client>;
  let admin: string;
  let outsider: string;
  let teamRuleId: string;

  before(async () => {
    postgres = await startPrivatePostgres();
    opened = await openTestPlatform({
      DATABASE_URL: postgres.url,
      REDIS_URL: services.redisUrl,
      KV_KEY_PREFIX: `test:${randomUUID()}:`,
      STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
      DATABASE_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
    });
    platform = opened.platform;
    await createMigrator(platform.database, [knowledgeModule]).up();
    app = await buildServer(platform, [knowledgeModule]);
    await knowledgeModule.seed?.(platform, () => {});
    call = client(app);
    const register = async () => {
      const res = await call("POST", "/v1/auth/register", {
        body: { email: `k-${randomUUID().slice(0, 8)}@example.com`, password: TEST_PASSWORD, name: "K" },
      });
      assert.equal(res.status, 201);
      return res.body.accessToken as string;
    };
    admin = await register();
    outsider = await register();
    const made = await call("POST", "/v1/knowledge/rules", {
      token: admin,
      body: {
        key: "team-outage",
        category: "operations",
        title: "Page the on-call engineer",
        description: "Every outage pages whoever is on call.",
        severity: "CRITICAL",
        enforcement: "mandatory",
      },
    });
    assert.equal(made.status, 201);
    teamRuleId = made.body.id;
  });
  after(async () => {
    await app?.close();
    await opened?.dispose();
    await postgres?.destroy();
  });

  it("serves stale reads, refuses writes with Retry-After, opens and closes the breaker", async () => {
    // The copy has caught up with the team's rule (announced on commit).
    const deadline = Date.now() + 10_000;
    while (!platform.localCopies.list()[0]?.rows.some((r) => (r as { row: { id: string } }).row.id === teamRuleId)) {
      if (Date.now() > deadline) assert.fail("the local copy never took the new rule");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const fresh = await call("GET", "/v1/knowledge/rules?limit=100", { token: admin });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers["strata-stale-since"], undefined);
    const all = fresh.body.items.length;
    // The outsider has been seen too: identity's per-request lookups are cached in each process (a caller
    // none of whose lookups are cached meets the outage as a 503 before any knowledge route runs).
    assert.equal((await call("GET", "/v1/knowledge/rules?limit=1", { token: outsider })).status, 200);

    await postgres.stop();

    // Reads keep answering, from the copy, and say since when.
    for (let i = 0; i < 3; i++) {
      const stale = await call("GET", "/v1/knowledge/rules?limit=100", { token: admin });
      assert.equal(stale.status, 200, JSON.stringify(stale.body));
      assert.ok(stale.headers["strata-stale-since"], "marked stale");
      assert.ok(Number(stale.headers.age) >= 0);
      assert.equal(stale.body.items.length, all);
    }
    assert.equal(platform.database.breaker?.state, "open", "three consecutive failures opened it");

    // The same access rules: another organization's rule stays invisible.
    const theirs = await call("GET", `/v1/knowledge/rules/${teamRuleId}`, { token: outsider });
    assert.equal(theirs.status, 404);
    const mine = await call("GET", `/v1/knowledge/rules/${teamRuleId}`, { token: admin });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.title, "Page the on-call engineer");
    const outsiderList = await call("GET", "/v1/knowledge/rules?limit=100", { token: outsider });
    assert.equal(outsiderList.body.items.length, all - 1);
    const found = await call("GET", "/v1/knowledge/search?q=outage%20pages", { token: admin });
    assert.equal(found.status, 200);
    assert.ok(found.headers["strata-stale-since"]);
    assert.equal(found.body.items[0]?.id, teamRuleId);

    // Writes answer 503 with Retry-After (the breaker's time to its probe), and nothing is half-written.
    const write = await call("POST", "/v1/knowledge/rules", {
      token: admin,
      body: {
        key: "written-while-down",
        category: "operations",
        title: "Lost?",
        description: "Must not be acknowledged.",
        severity: "INFO",
        enforcement: "optional",
      },
    });
    assert.equal(write.status, 503);
    assert.equal(write.body.error.code, "dependency_unavailable");
    const retryAfter = Number(write.headers["retry-after"]);
    assert.ok(retryAfter >= 1 && retryAfter <= HALF_OPEN_MS / 1000, `Retry-After ${retryAfter}`);

    // /ready and /metrics tell the operator.
    const ready = await call("GET", "/ready");
    assert.equal(ready.status, 503);
    assert.equal(ready.body.dependencies.database.breaker.state, "open");
    const copy = ready.body.features.localCopies.find((c: { name: string }) => c.name === "knowledge");
    assert.ok(copy.entries > 0 && copy.ageSeconds >= 0 && copy.syncedAt);
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    assert.match(metrics, /strata_db_breaker_state\{state="open"\} 1/);
    assert.match(metrics, /strata_local_copy_age_seconds\{copy="knowledge"\} \d/);

    // Back up: after the half-open wait, one probe closes the breaker, without restarting Strata.
    await postgres.start();
    await new Promise((resolve) => setTimeout(resolve, HALF_OPEN_MS + 200));
    const recovered = Date.now() + 15_000;
    for (;;) {
      const res = await call("GET", "/v1/knowledge/rules?limit=100", { token: admin });
      if (res.status === 200 && res.headers["strata-stale-since"] === undefined) break;
      if (Date.now() > recovered) assert.fail(`not recovered: ${res.status} ${JSON.stringify(res.headers)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(platform.database.breaker?.state, "closed");
    const again = await call("POST", "/v1/knowledge/rules", {
      token: admin,
      body: {
        key: "written-while-down",
        category: "operations",
        title: "Written after recovery",
        description: "The refused write left nothing behind, so its key is free.",
        severity: "INFO",
        enforcement: "optional",
      },
    });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    const readyAgain = await call("GET", "/ready");
    assert.equal(readyAgain.status, 200);
    assert.equal(readyAgain.body.dependencies.database.breaker.state, "closed");
  });
});
