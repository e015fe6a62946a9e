import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Type } from "typebox";
import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { StrataModule } from "../../src/runtime/module.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { startS3Server } from "../support/s3.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";

/** A route that needs the key-value store, to see how an outage reaches a client. */
const counter: StrataModule = {
  name: "counter",
  migrations: [],
  routes(app, platform) {
    app.post(
      "/counters",
      { schema: { response: { 201: Type.Object({ value: Type.Integer() }) } } },
      async (_req, reply) => reply.status(201).send({ value: await platform.kv.incrBy("counter", 1) }),
    );
  },
};

describe("server profile: real Postgres, Redis and S3 protocol", () => {
  let app: App;
  let platform: Platform;
  let dispose: () => Promise<void>;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let s3: Awaited<ReturnType<typeof startS3Server>>;

  before(async () => {
    scratch = await createScratchDatabase();
    s3 = await startS3Server();
    const opened = await openTestPlatform({
      DATABASE_URL: scratch.url,
      STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
      REDIS_URL: services.redisUrl,
      KV_KEY_PREFIX: `test:${randomUUID()}:`,
      ...s3.env,
    });
    platform = opened.platform;
    dispose = opened.dispose;
    await createMigrator(platform.database, []).up();
    app = await buildServer(platform, [counter]);
  });
  after(async () => {
    await app?.close();
    await dispose?.();
    await s3?.stop();
    await scratch?.drop();
  });

  it("is ready with every server dependency up", async () => {
    const res = await app.inject("/ready");
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.profile, "server");
    assert.equal(body.dependencies.database.driver, "postgres");
    assert.equal(body.dependencies.kv.driver, "redis");
    assert.equal(body.dependencies.blobs.driver, "s3");
    assert.ok(!app.hasRoute({ method: "GET", url: "/v1/blob-downloads" }), "S3 serves its own signed links");
  });

  it("serves a route that uses Redis", async () => {
    const res = await app.inject({ method: "POST", url: "/v1/counters" });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().value, 1);
  });

  it("answers 503 with Retry-After when Redis goes away, and /ready names it", async () => {
    // Closing the client is a real outage from Strata's point of view: no connection.
    await platform.kv.close();
    const res = await app.inject({ method: "POST", url: "/v1/counters" });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error.code, "dependency_unavailable");
    assert.equal(res.json().error.details.dependency, "kv");
    assert.ok(Number(res.headers["retry-after"]) > 0);
    const ready = await app.inject("/ready");
    assert.equal(ready.statusCode, 503);
    assert.ok(Number(ready.headers["retry-after"]) > 0);
    assert.equal(ready.json().dependencies.kv.status, "down");
    assert.equal(ready.json().dependencies.database.status, "up");
  });

  it("reports the database down when its server drops every connection", async () => {
    await scratch.drop();
    const ready = await app.inject("/ready");
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().dependencies.database.status, "down");
  });
});
