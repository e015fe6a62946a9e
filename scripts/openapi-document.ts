import { access, cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Config, loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { modules } from "../src/modules/index.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { openPlatform } from "../src/runtime/platform.ts";

/** The pre-migrated database the server's build makes (scripts/build.mjs). */
const DATABASE_IMAGE = path.resolve(import.meta.dirname, "../dist/database-image/pg");

/**
 * The OpenAPI document exactly as GET /openapi.json serves it, made in this
 * process over an embedded platform (for the API document's lint and the
 * TypeScript client's types): no network, no listening socket,
 * nothing migrated. The embedded profile registers every route there is
 * (signed blob downloads exist only with the filesystem blob store), so its
 * document is the whole API.
 *
 * The document does not depend on the database, but the platform opens one.
 * A copy of the build's database image opens in about a second; without an
 * image (a build that has not run yet) the database is made in memory by
 * initdb, which costs a few seconds more. `env` sets variables the
 * document shows (PUBLIC_URL is its server).
 */
export async function serverOpenApiDocument(env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-openapi-"));
  try {
    const loaded = loadConfig({ STRATA_DATA_DIR: dir, LOG_LEVEL: "silent", ...env });
    let config: Readonly<Config> = loaded;
    const image = await access(DATABASE_IMAGE).then(
      () => true,
      () => false,
    );
    if (image) await cp(DATABASE_IMAGE, path.join(dir, "pg"), { recursive: true });
    else if (loaded.database.driver === "pglite")
      config = { ...loaded, database: { ...loaded.database, dataDir: null } };
    const platform = await openPlatform(config, { logger: createLogger("silent") });
    try {
      const app = await buildServer(platform, modules);
      try {
        const response = await app.inject({ method: "GET", url: "/openapi.json" });
        if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
        return response.json();
      } finally {
        await app.close();
      }
    } finally {
      await platform.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
