import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { createMigrator } from "../runtime/migrations.ts";
import type { App } from "./app.ts";
import { buildServer } from "./server.ts";

const APP = "https://app.example.com";
const ADMIN = "https://admin.example.com";
const STRANGER = "https://evil.example.com";

function preflight(origin: string, method = "PATCH") {
  return {
    method: "OPTIONS" as const,
    url: "/v1/me/preferences",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization,content-type",
    },
  };
}

/** Every header by which a response grants cross-origin access. */
function grants(headers: Record<string, unknown>) {
  return Object.keys(headers).filter((name) => name.startsWith("access-control-"));
}

async function serverWith(env: Record<string, string>) {
  const opened = await openTestPlatform(env);
  await createMigrator(opened.platform.database, []).up();
  const app = await buildServer(opened.platform, []);
  return {
    app,
    async close() {
      await app.close();
      await opened.dispose();
    },
  };
}

describe("CORS when no origin is configured", () => {
  let app: App;
  let close: () => Promise<void>;
  before(async () => ({ app, close } = await serverWith({})));
  after(async () => close());

  it("grants nothing to any origin, on answers and errors alike", async () => {
    for (const url of ["/health", "/v1/me", "/v1/nothing-here", "/openapi.json"]) {
      const res = await app.inject({ url, headers: { origin: APP } });
      assert.deepEqual(grants(res.headers), [], url);
    }
  });

  it("answers a preflight as an unknown route, without a grant", async () => {
    const res = await app.inject(preflight(APP));
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, "route_not_found");
    assert.deepEqual(grants(res.headers), []);
    assert.equal(res.headers["x-content-type-options"], "nosniff");
  });
});

describe("CORS with CORS_ORIGINS set", () => {
  let app: App;
  let close: () => Promise<void>;
  before(async () => ({ app, close } = await serverWith({ CORS_ORIGINS: `${APP}, ${ADMIN}/` })));
  after(async () => close());

  it("echoes a listed origin, and lets it read the request id and rate-limit headers", async () => {
    for (const origin of [APP, ADMIN]) {
      const res = await app.inject({ url: "/health", headers: { origin } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["access-control-allow-origin"], origin);
      assert.match(res.headers.vary as string, /\bOrigin\b/, "caches keep one answer per origin");
      assert.equal(res.headers["access-control-allow-credentials"], undefined, "bearer tokens, no cookies");
      const exposed = (res.headers["access-control-expose-headers"] as string).split(/,\s*/);
      for (const header of ["X-Request-Id", "Retry-After", "RateLimit-Remaining"]) assert.ok(exposed.includes(header));
    }
  });

  it("grants a listed origin its errors too, so the app can read the error code", async () => {
    const res = await app.inject({ url: "/v1/me", headers: { origin: APP } });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers["access-control-allow-origin"], APP);
    assert.equal(res.headers["x-content-type-options"], "nosniff");
  });

  it("grants nothing to an unlisted origin, or to a request without one", async () => {
    const stranger = await app.inject({ url: "/health", headers: { origin: STRANGER } });
    assert.equal(stranger.statusCode, 200);
    assert.deepEqual(grants(stranger.headers), []);
    // An origin differing only in scheme or port is another origin.
    for (const origin of ["http://app.example.com", "https://app.example.com:8443"]) {
      assert.deepEqual(grants((await app.inject({ url: "/health", headers: { origin } })).headers), [], origin);
    }
    assert.deepEqual(grants((await app.inject("/health")).headers), []);
  });

  it("answers a listed origin's preflight with the methods and headers the API takes", async () => {
    const res = await app.inject(preflight(APP));
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, "");
    assert.equal(res.headers["access-control-allow-origin"], APP);
    const methods = (res.headers["access-control-allow-methods"] as string).split(/,\s*/);
    assert.deepEqual(methods.sort(), ["DELETE", "GET", "HEAD", "PATCH", "POST"]);
    const allowed = (res.headers["access-control-allow-headers"] as string).toLowerCase().split(/,\s*/);
    for (const header of ["authorization", "content-type"]) assert.ok(allowed.includes(header), header);
    assert.equal(res.headers["access-control-max-age"], "600");
    assert.equal(res.headers["x-content-type-options"], "nosniff", "preflights carry the security headers too");
  });

  it("answers an unlisted origin's preflight as an unknown route, without a grant", async () => {
    const res = await app.inject(preflight(STRANGER));
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, "route_not_found");
    assert.deepEqual(grants(res.headers), []);
  });

  it("serves the listed origin's actual request after its preflight", async () => {
    const registered = await app.inject({
      method: "POST",
      url: "/v1/auth/register",
      headers: { origin: APP },
      payload: { email: "cors@example.com", password: "correct horse battery staple", name: "Cors" },
    });
    assert.equal(registered.statusCode, 201, registered.body);
    assert.equal(registered.headers["access-control-allow-origin"], APP);
    const res = await app.inject({
      method: "PATCH",
      url: "/v1/me/preferences",
      headers: { origin: APP, authorization: `Bearer ${registered.json().accessToken}` },
      payload: { theme: "dark" },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().theme, "dark");
    assert.equal(res.headers["access-control-allow-origin"], APP);
  });
});
