/**
 * The server side of the embedding-load benchmark (bench/search-health.ts),
 * in its own process so the event loop measured serves Strata alone: an
 * embedded Strata server (PGlite in the given data directory, port 0 on
 * loopback) with its job workers, as `npm start` runs it. Prints one JSON
 * line with the port and a bearer token whose organization's API rate limit
 * is raised out of the way, then serves until SIGTERM.
 */
import { sql } from "kysely";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { modules } from "../src/modules/index.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";
import { startWorkers } from "../src/runtime/workers.ts";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: journal-load-server.ts <data dir>");

const config = loadConfig({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: "silent", HOST: "127.0.0.1", PORT: "0" });
const platform = await openPlatform(config, { logger: createLogger("silent") });
await createMigrator(platform.database, modules).up();
const app = await buildServer(platform, modules);
const stopWorkers = await startWorkers(platform, modules);

const registered = await app.inject({
  method: "POST",
  url: "/v1/auth/register",
  payload: { email: "bench@example.com", password: "correct horse battery staple", name: "Bench" },
});
const { accessToken, user } = registered.json() as { accessToken: string; user: { id: string } };
await sql`update organizations set settings = jsonb_set(settings, '{rate_limits}', '{"api": 1000000}')
  where id = (select personal_organization_id from users where id = ${user.id})`.execute(platform.database.db);

await app.listen({ host: "127.0.0.1", port: 0 });
const address = app.server.address();
const port = typeof address === "object" && address ? address.port : 0;
process.stdout.write(`${JSON.stringify({ port, token: accessToken })}\n`);

process.once("SIGTERM", async () => {
  await stopWorkers();
  await app.close();
  await platform.close();
  process.exit(0);
});
