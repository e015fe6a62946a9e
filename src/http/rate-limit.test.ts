import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { client } from "../../test/support/http.ts";
import { createMigrator } from "../runtime/migrations.ts";
import { buildServer } from "./server.ts";

async function serverWith(env: Record<string, string>) {
  const opened = await openTestPlatform(env);
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
