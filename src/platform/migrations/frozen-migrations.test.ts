import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { modules } from "../../modules/index.ts";
import { allMigrations } from "../../runtime/migrations.ts";
import type { Migration } from "./migration.ts";

/**
 * Migrations are frozen in time: a migration carries the SQL and the data it
 * needs as they were when it was written, so that no later change to live
 * code (a constant, a helper, a list of defaults) can change what an old
 * migration does on the next deployment that runs it, or make the database
 * image's fingerprint (the text of each up and down) miss a change.
 *
 * A migration file is one that exports a `Migration` or `Migration[]`. It may
 * import only kysely, the Migration type, and other migration files; and it
 * exports nothing but migrations, so live code cannot come to depend on a
 * migration's constants either (and be tempted to change them).
 */
const ROOT = path.resolve(import.meta.dirname, "../../..");
const ALLOWED_PACKAGES = new Set(["kysely"]);
const MIGRATION_TYPE = "src/platform/migrations/migration.ts";

/** Source files (not tests) that declare an exported Migration or Migration[]. */
async function migrationFiles(): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, "src"), { recursive: true });
  const found: string[] = [];
  for (const entry of entries.map(String).sort()) {
    if (!entry.endsWith(".ts") || entry.endsWith(".test.ts")) continue;
    const file = path.posix.join("src", entry.split(path.sep).join("/"));
    const text = await readFile(path.join(ROOT, file), "utf8");
    if (/export const \w+\s*:\s*Migration(\[\])?\s*=/.test(text)) found.push(file);
  }
  return found;
}

function isMigration(value: unknown): value is Migration {
  const m = value as Migration;
  return (
    typeof m === "object" &&
    m !== null &&
    Number.isInteger(m.version) &&
    typeof m.name === "string" &&
    typeof m.up === "function" &&
    typeof m.down === "function"
  );
}

const files = await migrationFiles();

describe("migrations are frozen in time", () => {
  it("finds the migration files of every registry", () => {
    assert.ok(files.includes("src/platform/migrations/platform-migrations.ts"), files.join(", "));
    assert.ok(files.includes("src/platform/identity/migrations.ts"), files.join(", "));
    assert.ok(files.includes("src/modules/writing/migrations.ts"), files.join(", "));
  });

  it("import nothing but kysely, the Migration type and other migration files", async () => {
    // esbuild resolves every import the way the build does (static, dynamic,
    // require, re-export); type-only imports are erased, as they are at run time.
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: files,
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: "node",
      packages: "external",
      outdir: "out",
      logLevel: "silent",
    });
    const allowed = new Set([...files, MIGRATION_TYPE]);
    const refused: string[] = [];
    for (const file of files) {
      const input = result.metafile.inputs[file];
      assert.ok(input, `esbuild saw ${file}`);
      for (const imported of input.imports) {
        const ok = imported.external ? ALLOWED_PACKAGES.has(imported.path) : allowed.has(imported.path);
        if (!ok) refused.push(`${file} imports ${imported.original ?? imported.path}`);
      }
    }
    assert.deepEqual(
      refused,
      [],
      "a migration must carry what it needs as it was when written (copy values in as literals), not import live code",
    );
  });

  it("export only migrations, and together hold every registered one", async () => {
    const exported = new Map<number, string>();
    const notMigrations: string[] = [];
    for (const file of files) {
      const namespace: Record<string, unknown> = await import(pathToFileURL(path.join(ROOT, file)).href);
      for (const [name, value] of Object.entries(namespace)) {
        const list = Array.isArray(value) ? value : [value];
        if (list.length === 0 || !list.every(isMigration)) {
          notMigrations.push(`${file} exports ${name}`);
          continue;
        }
        for (const m of list) exported.set(m.version, file);
      }
    }
    assert.deepEqual(notMigrations, [], "live code must not depend on a migration file; move the value to live code");
    const registered = allMigrations(modules).map((m) => m.version);
    assert.deepEqual(
      registered.filter((v) => !exported.has(v)),
      [],
      "every registered migration is declared in a file this test checks (`export const x: Migration = …`)",
    );
  });
});
