/**
 * The server side of the event-loop benchmark (bench/event-loop.ts), run as
 * its own process so the loop being measured serves HTTP and nothing else.
 *
 * An embedded Strata server (PGlite in the given data directory, port 0 on
 * loopback) with one extra route for the comparison: GET
 * /bench/dmp-diff/:documentId?from=&to= diffs two versions the way Strata did
 * before the compute pool, with diff-match-patch (diff plus semantic
 * clean-up) synchronously on the event loop. Prints one JSON line with the
 * port and a bearer token whose organization's API rate limit is raised out
 * of the way, then serves until SIGTERM.
 */
import { cleanupSemantic, DIFF_DELETE, DIFF_INSERT, makeDiff } from "@sanity/diff-match-patch";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { modules } from "../src/modules/index.ts";
import { findVersion, readVersionContent } from "../src/modules/writing/version-store.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";
import { listenForBench } from "./bench-server.ts";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: event-loop-server.ts <data dir>");

const config = loadConfig({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: "silent", HOST: "127.0.0.1", PORT: "0" });
const platform = await openPlatform(config, { logger: createLogger("silent") });
await createMigrator(platform.database, modules).up();
const app = await buildServer(platform, modules);

app.get<{ Params: { documentId: string }; Querystring: { from: string; to: string } }>(
  "/bench/dmp-diff/:documentId",
  { schema: { hide: true } },
  async (request) => {
    const db = platform.database.db;
    const { documentId } = request.params;
    const from = Number(request.query.from);
    const to = Number(request.query.to);
    const [a, b] = await Promise.all([findVersion(db, documentId, from), findVersion(db, documentId, to)]);
    const [left, right] = await Promise.all([readVersionContent(db, platform, a), readVersionContent(db, platform, b)]);
    const stats = { insertedChars: 0, deletedChars: 0, unchangedChars: 0 };
    const changes = cleanupSemantic(makeDiff(left, right)).map(([op, text]) => {
      if (op === DIFF_INSERT) stats.insertedChars += text.length;
      else if (op === DIFF_DELETE) stats.deletedChars += text.length;
      else stats.unchangedChars += text.length;
      return { op: op === DIFF_INSERT ? "insert" : op === DIFF_DELETE ? "delete" : "equal", text };
    });
    return { from, to, changes, stats };
  },
);

await listenForBench(app, platform);

process.once("SIGTERM", async () => {
  await app.close();
  await platform.close();
  process.exit(0);
});
