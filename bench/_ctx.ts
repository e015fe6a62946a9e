import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { createBatch } from "../src/modules/generation/batches.ts";
import { startContextWorkers } from "../src/modules/generation/context-workers.ts";
import { modules } from "../src/modules/index.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";
import { generationAccount, noOpPipeline } from "../test/support/generation-fixtures.ts";
import { createScratchDatabase } from "../test/support/postgres.ts";

const N = Number(process.env.N ?? 2000);
const embedded = process.env.EMBEDDED === "1";
const scratch = embedded ? null : await createScratchDatabase();
if (scratch && process.env.ASYNC) {
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: scratch.url });
  await c.connect();
  await c.query(`alter database ${scratch.name} set synchronous_commit = off`);
  await c.end();
}
const dir = await mkdtemp(path.join(tmpdir(), "ctx-"));
const env: Record<string, string> = embedded
  ? { STRATA_DATA_DIR: dir, LOG_LEVEL: "silent" }
  : { DATABASE_URL: scratch!.url, REDIS_URL: "redis://127.0.0.1:6379", KV_KEY_PREFIX: `b:${scratch!.name}:`, STRATA_SIGNING_SECRET: "x".repeat(40), STRATA_DATA_DIR: dir, LOG_LEVEL: "silent", DATABASE_POOL_MAX: "20" };
const platform = await openPlatform(loadConfig(env), { logger: createLogger("silent") });
await createMigrator(platform.database, modules).up();
const owner = await generationAccount(platform, { maxBatchSize: 100000, maxContextsPerDay: 10000000 });
const pipeline = await noOpPipeline(platform, owner);
for (const c of (process.env.C ?? "1,4,16").split(",").map(Number)) {
  const t0 = performance.now();
  const batch = await createBatch(platform, owner, { name: "b", pipelineId: pipeline.id, contexts: Array.from({ length: N }, () => ({})) });
  if (process.env.NOBATCH) await platform.database.db.updateTable("generation_contexts").set({ batch_id: null }).where("batch_id", "=", batch.id).execute();
  const t1 = performance.now();
  const started = performance.now();
  const stop = await startContextWorkers(platform, c);
  for (;;) {
    const row = await platform.database.db.selectFrom("generation_contexts").select((eb) => eb.fn.countAll<string>().as("n")).where("status", "=", "completed").where("organization_id", "=", owner.organizationId).executeTakeFirstOrThrow();
    if (Number(row.n) >= N * (1 + [1, 4, 16].indexOf(c))) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const secs = (performance.now() - started) / 1000;
  await stop();
  const rows = await platform.database.db.selectFrom("generation_contexts").select(["started_at", "completed_at", "duration_ms"]).where("organization_id", "=", owner.organizationId).where("created_at", ">=", new Date(Date.now() - 60_000)).orderBy("started_at").execute();
  let gaps = 0; let dur = 0;
  for (let i = 1; i < rows.length; i++) { gaps += (rows[i]!.started_at as Date).getTime() - (rows[i - 1]!.completed_at as Date).getTime(); dur += Number(rows[i]!.duration_ms); }
  console.log(`avg in-handler ${(dur / rows.length).toFixed(2)} ms, avg gap ${(gaps / rows.length).toFixed(2)} ms`);
  console.log(`${embedded ? "pglite" : "postgres"} c=${c} enqueue ${(N / ((t1 - t0) / 1000)).toFixed(0)}/s drain ${(N / secs).toFixed(0)} contexts/s`);
}
await platform.close();
await scratch?.drop();
