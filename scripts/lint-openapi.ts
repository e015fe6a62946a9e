// Lints the OpenAPI document as a client would receive it: builds the server
// on an embedded platform held in memory (no files, no servers), reads
// GET /openapi.json, writes it to a temporary file and runs Redocly's CLI on
// it with the rules in redocly.yaml (its recommended set). Exits with
// Redocly's status: any error fails `npm run lint:openapi`, and so CI.
//   npm run lint:openapi [-- <extra redocly lint options>]
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { modules } from "../src/modules/index.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { openPlatform } from "../src/runtime/platform.ts";

const root = path.join(import.meta.dirname, "..");
const dir = await mkdtemp(path.join(tmpdir(), "strata-openapi-"));
let status = 1;
try {
  const loaded = loadConfig({ STRATA_DATA_DIR: dir, LOG_LEVEL: "silent", PUBLIC_URL: "https://strata.example" });
  // PGlite without a data directory keeps the database in memory.
  const config = {
    ...loaded,
    database: loaded.database.driver === "pglite" ? { ...loaded.database, dataDir: null } : loaded.database,
  };
  const platform = await openPlatform(config, { logger: createLogger("silent") });
  const file = path.join(dir, "openapi.json");
  try {
    const app = await buildServer(platform, modules);
    const response = await app.inject("/openapi.json");
    if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
    // Indented, so the lint's line numbers point somewhere readable.
    await writeFile(file, JSON.stringify(response.json(), null, 2));
    await app.close();
  } finally {
    await platform.close();
  }
  const redocly = spawnSync(
    path.join(root, "node_modules", ".bin", "redocly"),
    ["lint", "--config", path.join(root, "redocly.yaml"), ...process.argv.slice(2), file],
    {
      stdio: "inherit",
      cwd: root,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    },
  );
  status = redocly.status ?? 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(status);
