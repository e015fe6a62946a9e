/**
 * The change-feed fan-out benchmark's server (bench/changes-fanout.ts), in
 * its own process: Strata embedded with the knowledge module, listening on
 * loopback. On `go <n>` from stdin it records n changes (500 per
 * transaction, as a busy knowledge base's writers would) and relays each
 * batch at once, so what is measured is the relay and the hub's fan-out to
 * the subscribers, not the job service's wake-up.
 */
import { createInterface } from "node:readline";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { knowledgeModule } from "../src/modules/knowledge/index.ts";
import { transaction } from "../src/platform/database/transaction.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";
import { listenForBench } from "./bench-server.ts";
import { fanoutChange } from "./fanout-frame.ts";

const BATCH = 500;
const dataDir = process.argv[2] as string;
const config = loadConfig({ ...process.env, STRATA_DATA_DIR: dataDir, LOG_LEVEL: "warn" });
const platform = await openPlatform(config, { logger: createLogger("warn") });
await createMigrator(platform.database, [knowledgeModule]).up();
const app = await buildServer(platform, [knowledgeModule]);
await listenForBench(app, platform);

/** The benchmark's change, for everyone (a system entry's audience). */
const change = (i: number) => ({ ...fanoutChange(i), audience: { organizationId: null } });

for await (const line of createInterface({ input: process.stdin })) {
  const [command, count] = line.split(" ");
  if (command !== "go") continue;
  const total = Number(count);
  for (let done = 0; done < total; done += BATCH) {
    const size = Math.min(BATCH, total - done);
    await transaction(platform.database.db, (trx) =>
      platform.changes.record(
        trx,
        Array.from({ length: size }, (_, i) => change(done + i)),
      ),
    );
    await platform.changes.flush();
  }
  process.stdout.write("published\n");
}
