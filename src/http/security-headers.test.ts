import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { openTestPlatform } from "../../test/support/embedded.ts";
import type { App } from "./app.ts";
import { buildServer } from "./server.ts";

/** A Content-Security-Policy header as directive name → its sources. */
function parsePolicy(header: unknown): Map<string, string[]> {
  assert.equal(typeof header, "string", "one Content-Security-Policy header");
  const policy = new Map<string, string[]>();
  for (const directive of (header as string).split(";")) {
    const [name, ...sources] = directive.trim().split(/\s+/);
    if (name) policy.set(name.toLowerCase(), sources);
  }
  return policy;
}

/** Responses of every kind the server gives: operations, documents, the reference, and errors. */
const REQUESTS: { name: string; request: InjectOptions; status: number }[] = [
  { name: "liveness", request: { url: "/health" }, status: 200 },
  { name: "readiness", request: { url: "/ready" }, status: 200 },
  { name: "metrics", request: { url: "/metrics" }, status: 200 },
  { name: "OpenAPI document", request: { url: "/openapi.json" }, status: 200 },
  { name: "reference page", request: { url: "/docs" }, status: 200 },
  { name: "reference page with a slash", request: { url: "/docs/" }, status: 200 },
  { name: "reference script", request: { url: "/docs/static/swagger-ui-bundle.js" }, status: 200 },
  { name: "unknown route", request: { url: "/v1/nothing-here" }, status: 404 },
  { name: "no credentials", request: { url: "/v1/me" }, status: 401 },
  {
    name: "invalid body",
    request: { method: "POST", url: "/v1/auth/login", payload: { email: 1 } },
    status: 400,
  },
];

function assertSecurityHeaders(res: LightMyRequestResponse, name: string) {
  assert.equal(res.headers["x-content-type-options"], "nosniff", name);
  assert.equal(res.headers["x-frame-options"], "DENY", name);
  assert.equal(res.headers["referrer-policy"], "no-referrer", name);
  const policy = parsePolicy(res.headers["content-security-policy"]);
  assert.deepEqual(policy.get("frame-ancestors"), ["'none'"], `${name}: no page may frame it`);
  assert.equal(res.headers["access-control-allow-origin"], undefined, `${name}: CORS is closed by default`);
}

describe("security headers", () => {
  let app: App;
  let dispose: () => Promise<void>;
  before(async () => {
    // The test platform's PUBLIC_URL is http://strata.test.
    const opened = await openTestPlatform();
    dispose = opened.dispose;
    app = await buildServer(opened.platform, []);
  });
  after(async () => {
    await app.close();
    await dispose();
  });

  for (const { name, request, status } of REQUESTS) {
    it(`are sent with the ${name} (${status})`, async () => {
      const res = await app.inject(request);
      assert.equal(res.statusCode, status, res.body.slice(0, 200));
      assertSecurityHeaders(res, name);
      assert.equal(res.headers["strict-transport-security"], undefined, "no HSTS over an http public URL");
    });
  }

  it("give API responses a policy under which a browser loads and runs nothing", async () => {
    for (const url of ["/health", "/v1/nothing-here", "/openapi.json"]) {
      const policy = parsePolicy((await app.inject(url)).headers["content-security-policy"]);
      assert.deepEqual(policy.get("default-src"), ["'none'"], url);
      assert.equal(policy.has("script-src"), false, `${url}: scripts fall back to default-src 'none'`);
    }
  });

  it("give the reference a policy that covers everything its page loads", async () => {
    for (const pageUrl of ["/docs", "/docs/"]) {
      const page = await app.inject(pageUrl);
      assert.match(page.headers["content-type"] as string, /^text\/html/);
      const policy = parsePolicy(page.headers["content-security-policy"]);
      assert.deepEqual(policy.get("script-src"), ["'self'"], "scripts from this origin only, none inline");
      assert.deepEqual(policy.get("script-src-attr"), ["'none'"]);
      assert.equal(policy.get("style-src")?.[0], "'self'");
      assert.ok(!policy.get("style-src")?.includes("'unsafe-inline'"));
      assert.deepEqual(policy.get("default-src"), ["'self'"], "fetching /docs/json and Try it out stay allowed");
      assert.ok(policy.get("img-src")?.includes("data:"), "the logo and icons are data: URLs");
      assert.equal(policy.has("upgrade-insecure-requests"), false, "over http it would break the page");

      // The page itself: no inline script or style, nothing from another origin.
      const html = page.body;
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      assert.equal(scripts.length, 3, "the bundle, the preset and the initializer");
      for (const [, attributes, body] of scripts) {
        assert.match(attributes ?? "", /\bsrc="[^"]+"/, "every script is loaded by src");
        assert.equal(body?.trim(), "", "no inline script");
      }
      assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i, "no inline style or event handler");
      const base = new URL(pageUrl, "http://strata.test");
      const references = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1] ?? "", base));
      assert.ok(references.length >= 5);
      for (const reference of references) {
        assert.equal(reference.origin, base.origin, `${reference} is same-origin, so 'self' covers it`);
        const res = await app.inject(reference.pathname);
        assert.equal(res.statusCode, 200, `${reference.pathname} loads`);
        assertSecurityHeaders(res, reference.pathname);
      }
    }
    const initializer = (await app.inject("/docs/static/swagger-initializer.js")).body;
    assert.match(initializer, /resolveUrl\('\.\/json'\)/, "the document is fetched from this origin");
    assert.match(initializer, /img\.src = 'data:image\//, "the logo is a data: URL, which img-src allows");
  });

  it("allow by hash each inline <style> that the installed Swagger UI bundles create", async () => {
    const staticDir = path.join(path.dirname(createRequire(import.meta.url).resolve("@fastify/swagger-ui")), "static");
    const hashes: string[] = [];
    for (const file of ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"]) {
      const source = readFileSync(path.join(staticDir, file), "utf8");
      for (const [, css] of source.matchAll(/createElement\("style",null,"((?:[^"\\]|\\.)*)"\)/g)) {
        hashes.push(
          `'sha256-${createHash("sha256")
            .update(JSON.parse(`"${css}"`))
            .digest("base64")}'`,
        );
      }
    }
    assert.ok(hashes.length > 0, "the bundles' inline styles were found (if not, look again by hand after an upgrade)");
    const styleSources = parsePolicy((await app.inject("/docs/")).headers["content-security-policy"]).get("style-src");
    for (const hash of hashes) assert.ok(styleSources?.includes(hash), `style-src allows ${hash}`);
  });
});

describe("security headers behind an https public URL", () => {
  let app: App;
  let dispose: () => Promise<void>;
  before(async () => {
    const opened = await openTestPlatform({ PUBLIC_URL: "https://strata.example.com" });
    dispose = opened.dispose;
    app = await buildServer(opened.platform, []);
  });
  after(async () => {
    await app.close();
    await dispose();
  });

  it("add Strict-Transport-Security to every response, errors and the reference included", async () => {
    for (const { name, request, status } of REQUESTS) {
      const res = await app.inject(request);
      assert.equal(res.statusCode, status, name);
      assertSecurityHeaders(res, name);
      assert.equal(res.headers["strict-transport-security"], "max-age=31536000", name);
    }
  });

  it("have the reference's page upgrade any http request it makes", async () => {
    const policy = parsePolicy((await app.inject("/docs/")).headers["content-security-policy"]);
    assert.deepEqual(policy.get("upgrade-insecure-requests"), []);
    assert.deepEqual(policy.get("script-src"), ["'self'"]);
  });
});
