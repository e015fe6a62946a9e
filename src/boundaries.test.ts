import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

/**
 * The code's boundaries, checked on the source so a change that crosses one
 * fails here rather than in a review: identity owns its tables and its
 * caches, and every transaction goes through the nesting helper.
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
    const routes = [
      ...sources(path.join(SRC, "http", "routes")),
      ...sources(path.join(SRC, "modules")).filter((f) => f.endsWith("routes.ts")),
    ];
    const offenders = routes
      .filter((file) =>
        /^import (?!type )[^;]*from "[./]*platform\/identity\/(?!principal\.ts|schemas\.ts)/m.test(
          readFileSync(file, "utf8"),
        ),
      )
      .map(relative);
    assert.deepEqual(offenders, []);
  });
});
