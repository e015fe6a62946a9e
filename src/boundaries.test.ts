import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

/**
 * The code's boundaries, checked on the source so a change that crosses one
 * fails here rather than in a review: identity owns its tables and its
 * caches, every transaction goes through the nesting helper, and a
 * resource's shape is declared in its schemas file, not in a route.
 */
const SRC = import.meta.dirname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") ? [full] : [];
  });
}

const relative = (file: string) => path.relative(SRC, file);
const IDENTITY_TABLES = [
  "organizations",
  "users",
  "memberships",
  "user_preferences",
  "api_keys",
  "anonymous_sessions",
  "user_sessions",
  "refresh_tokens",
];

function routeFiles(): string[] {
  return [
    ...sources(path.join(SRC, "http", "routes")),
    ...sources(path.join(SRC, "modules")).filter((f) => f.endsWith("routes.ts")),
  ];
}

describe("code boundaries", () => {
  it("opens every transaction through the nesting helper", () => {
    const offenders = sources(SRC)
      .filter((file) => relative(file) !== path.join("platform", "database", "transaction.ts"))
      .filter((file) => /\.transaction\(\)/.test(readFileSync(file, "utf8")))
      .map(relative);
    assert.deepEqual(offenders, []);
  });

  it("keeps identity's tables to identity: modules and the HTTP layer never query them", () => {
    const tables = IDENTITY_TABLES.join("|");
    // A table named in a query builder call or after FROM/JOIN/UPDATE/INTO in SQL.
    const query = new RegExp(
      `(selectFrom|updateTable|insertInto|deleteFrom|innerJoin|leftJoin)\\(\\s*"(${tables})\\b|\\b(from|join|update|into)\\s+(${tables})\\b`,
      "i",
    );
    const outside = [...sources(path.join(SRC, "modules")), ...sources(path.join(SRC, "http"))];
    const offenders = outside.filter((file) => query.test(readFileSync(file, "utf8"))).map(relative);
    assert.deepEqual(offenders, []);
  });

  it("hands identity a principal, never a database handle: routes import no identity functions", () => {
    // principal.ts (the Principal and its helpers) and identity's schemas (TypeBox values) are what a route may import.
    const offenders = routeFiles()
      .filter((file) =>
        /^import (?!type )[^;]*from "[./]*platform\/identity\/(?!principal\.ts|schemas\.ts)/m.test(
          readFileSync(file, "utf8"),
        ),
      )
      .map(relative);
    assert.deepEqual(offenders, []);
  });

  it("declares each resource's shape once: route files build no response objects", () => {
    // Responses are the schemas files' (platform/identity/schemas.ts, modules/*/schemas.ts,
    // http/health-schemas.ts), whose Static types the services return. A route builds
    // objects only for its path parameters and query string; bodies are StrictObject.
    // (A response written as StrictObject or a bare array would pass; none is.)
    const allowed = /(\b(params|querystring):\s*|\bconst \w+(Params|Query) = )$/;
    const offenders = routeFiles().flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) => {
          const at = line.search(/Type\.(Object|Intersect|Composite)\(/);
          return at >= 0 && !allowed.test(line.slice(0, at)) ? [`${relative(file)}:${i + 1}: ${line.trim()}`] : [];
        }),
    );
    assert.deepEqual(offenders, []);
  });
});
