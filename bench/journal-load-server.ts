/**
 * The server side of the embedding-load benchmark (bench/search-health.ts),
 * in its own process so the event loop measured serves Strata alone: an
 * embedded Strata server (PGlite in the given data directory, port 0 on
 * loopback) with its job workers, as `npm start` runs it. Prints one JSON
 * line with the port and a bearer token whose organization's API rate limit
 * is raised out of the way, then serves until SIGTERM.
 */
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { modules } from "../src/modules/index.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";
import { startWorkers } from "../src/runtime/workers.ts";
import { listenForBench } from "./bench-server.ts";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: journal-load-server.ts <data dir>");

const config = loadConfig({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: "silent", HOST: "127.0.0.1", PORT: "0" });
const platform = await openPlatform(config, { logger: createLogger("silent") });
await createMigrator(platform.database, modules).up();
const app = await buildServer(platform, modules);
const stopWorkers = await startWorkers(platform, modules);

await listenForBench(app, platform);

process.once("SIGTERM", async () => {
  await stopWorkers();
  await app.close();
  await platform.close();
  process.exit(0);
});
