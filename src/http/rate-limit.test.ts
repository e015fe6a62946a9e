import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sql } from "kysely";
import { TestClock } from "../../test/support/clock.ts";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { client } from "../../test/support/http.ts";
import { createMigrator } from "../runtime/migrations.ts";
import { buildServer } from "./server.ts";

async function serverWith(env: Record<string, string>, options: { clock?: TestClock } = {}) {
  const opened = await openTestPlatform(env, options);
  await createMigrator(opened.platform.database, []).up();
  const app = await buildServer(opened.platform, []);
  return {
    call: client(app),
    platform: opened.platform,
    async close() {
      await app.close();
      await opened.dispose();
    },
  };
}

async function burst(call: ReturnType<typeof client>, headers: Record<string, string>) {
  const statuses: number[] = [];
  for (let i = 0; i < 21; i++)
    statuses.push((await call("POST", "/v1/auth/anonymous", { ip: "127.0.0.5", headers })).status);
  return statuses.filter((s) => s === 429).length;
}

describe("client IP for per-IP limits", () => {
  it("ignores X-Forwarded-For unless a proxy is trusted, so it cannot be used to dodge limits", async () => {
    const server = await serverWith({});
    try {
      // 21 requests from one socket, each claiming another forwarded address: still one bucket.
      let forwarded = 0;
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) {
        const res = await server.call("POST", "/v1/auth/anonymous", {
          ip: "127.0.0.6",
          headers: { "x-forwarded-for": `198.51.100.${forwarded++}` },
        });
        statuses.push(res.status);
      }
      assert.equal(statuses.at(-1), 429);
    } finally {
      await server.close();
    }
  });

  it("uses the forwarded address when the proxy is trusted", async () => {
    const server = await serverWith({ TRUST_PROXY: "127.0.0.5" });
    try {
      assert.equal(await burst(server.call, { "x-forwarded-for": "198.51.100.7" }), 1);
      assert.equal(
        await burst(server.call, { "x-forwarded-for": "198.51.100.8" }),
        1,
        "another client behind the proxy has its own bucket",
      );
    } finally {
      await server.close();
    }
  });

  it("counts rate-limit decisions and cache hits and misses per namespace in /metrics", async () => {
    const server = await serverWith({});
    try {
      const user = await server.call("POST", "/v1/auth/register", {
        body: { email: "metrics@example.com", password: "correct horse battery staple", name: "M" },
      });
      await server.call("GET", "/v1/me", { token: user.body.accessToken });
      await server.call("GET", "/v1/me", { token: user.body.accessToken });
      const metrics = await server.call("GET", "/metrics");
      assert.match(metrics.body, /strata_rate_limit_decisions_total\{limit_class="auth",outcome="allowed"\} 1/);
      assert.match(metrics.body, /strata_rate_limit_decisions_total\{limit_class="api",outcome="allowed"\} 2/);
      assert.match(metrics.body, /strata_cache_requests_total\{namespace="user",outcome="miss"\} \d+/);
      assert.match(metrics.body, /strata_cache_requests_total\{namespace="user",outcome="hit"\} [1-9]/);
    } finally {
      await server.close();
    }
  });
});

describe("buckets per principal", () => {
  it("charges a user's API keys to the user's own buckets, so more keys buy no more requests", async () => {
    // The clock stands still: no bucket refills while the test runs.
    const server = await serverWith({}, { clock: new TestClock() });
    try {
      const register = async (email: string) => {
        const res = await server.call("POST", "/v1/auth/register", {
          body: { email, password: "correct horse battery staple", name: "Keys" },
        });
        assert.equal(res.status, 201);
        return res.body.accessToken as string;
      };
      const token = await register("keys@example.com");
      const bystander = await register("bystander@example.com");
      const newKey = async (name: string) => {
        const res = await server.call("POST", "/v1/api-keys", { token, body: { name, scopes: ["read"] } });
        assert.equal(res.status, 201);
        return res.body.key as string;
      };
      const [first, second] = [await newKey("first"), await newKey("second")];
      // A small api-class limit for the user's organization, set as an operator sets it.
      const org = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString()).org as string;
      await sql`update organizations set settings = settings || '{"rate_limits": {"api": 5}}'::jsonb
        where id = ${org}`.execute(server.platform.database.db);
      await server.platform.identity.organizations.forgetLimits(org);

      const status = async (bearer: string) => (await server.call("GET", "/v1/me", { token: bearer })).status;
      let allowed = 0;
      while ((await status(first)) !== 429) assert.ok(++allowed <= 5, "the key is limited at all");
      assert.ok(allowed >= 1);
      assert.equal(await status(token), 429, "the user's own token draws from the bucket the key emptied");
      assert.equal(await status(second), 429, "and so does the user's other key");
      assert.equal(await status(bystander), 200, "another user's bucket is untouched");
    } finally {
      await server.close();
    }
  });
});
