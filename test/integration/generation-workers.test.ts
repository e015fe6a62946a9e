import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { loadConfig } from "../../src/config/config.ts";
import { createBatch } from "../../src/modules/generation/batches.ts";
import { kvKeys } from "../../src/modules/generation/kv-keys.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { openPlatform, type Platform } from "../../src/runtime/platform.ts";
import { startChatCompletionsServer } from "../support/chat-completions-server.ts";
import { exitOf, runCli, startCommand } from "../support/cli.ts";
import { eventually } from "../support/eventually.ts";
import { articlePipeline, generationAccount } from "../support/generation-fixtures.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";

/**
 * Worker processes on the real Postgres and Redis: one is killed with
 * SIGKILL while it holds contexts, and every context still ends completed,
 * exactly once, finished by the other.
 */
describe("generation workers (server profile, separate processes)", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let env: Record<string, string>;
  let platform: Platform;
  const dirs: string[] = [];

  before(async () => {
    scratch = await createScratchDatabase();
    ai = await startChatCompletionsServer();
    // Slow enough that a worker is caught holding contexts mid-pipeline.
    ai.setDelay(150);
    env = {
      DATABASE_URL: scratch.url,
      REDIS_URL: services.redisUrl,
      KV_KEY_PREFIX: `test:${scratch.name}:`,
      STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
      AI_BASE_URL: ai.baseUrl,
      GENERATION_LEASE_MS: "2000",
    };
    const up = await runCli(["migrate", "up"], env);
    assert.equal(up.code, 0, up.stderr);
    const dataDir = await mkdtemp(path.join(tmpdir(), "strata-gen-"));
    dirs.push(dataDir);
    platform = await openPlatform(loadConfig({ ...env, STRATA_DATA_DIR: dataDir, LOG_LEVEL: "silent" }), {
      logger: createLogger("silent"),
    });
  });
  after(async () => {
    await platform?.close();
    await ai?.stop();
    await scratch?.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function startWorker(concurrency: number) {
    const dir = await mkdtemp(path.join(tmpdir(), "strata-gen-worker-"));
    dirs.push(dir);
    return startCommand(
      ["worker", "--concurrency", String(concurrency)],
      { ...env, STRATA_DATA_DIR: dir, LOG_LEVEL: "info" },
      /"worker started"/,
    );
  }

  /** The worker id a process beats under (its heartbeat names its pid). */
  async function workerIdOf(pid: number): Promise<string> {
    for (let i = 0; i < 200; i++) {
      for await (const key of platform.kv.scan(kvKeys.workerHeartbeatPrefix)) {
        const beat = await platform.kv.hgetall(key);
        if (beat.pid === String(pid)) return key.slice(kvKeys.workerHeartbeatPrefix.length);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no heartbeat from pid ${pid}`);
  }

  it("finishes every context exactly once when a worker is SIGKILLed mid-context", async () => {
    const owner = await generationAccount(platform);
    const pipeline = await articlePipeline(platform, owner);
    const count = 24;
    const batch = await createBatch(platform, owner, {
      name: "Killed mid-way",
      pipelineId: pipeline.id,
      contexts: Array.from({ length: count }, (_, i) => ({ data: { title: `Article ${i}`, keywords: ["a", "b"] } })),
    });
    const doomed = await startWorker(4);
    const doomedId = await workerIdOf(doomed.child.pid as number);
    // Wait until the doomed worker holds contexts mid-pipeline (its progress saved, not yet completed).
    let held: string[] = [];
    for (let i = 0; i < 400 && held.length === 0; i++) {
      const rows = await platform.database.db
        .selectFrom("generation_contexts")
        .select("id")
        .where("batch_id", "=", batch.id)
        .where("status", "=", "processing")
        .where("worker_id", "=", doomedId)
        .where(sql<boolean>`cardinality(completed_components) > 0`)
        .execute();
      held = rows.map((r) => r.id);
      if (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(held.length > 0, "the worker took contexts");
    doomed.child.kill("SIGKILL");
    await exitOf(doomed.child);
    // Its lock on a held context outlives it (five minutes); its heartbeat goes within a minute.
    assert.equal(await platform.kv.get(kvKeys.workerLock(held[0] as string)), doomedId);

    const survivor = await startWorker(4);
    try {
      const survivorId = await workerIdOf(survivor.child.pid as number);
      const deadline = Date.now() + 120_000;
      let rows = await contexts(batch.id);
      while (rows.some((r) => r.status !== "completed" && r.status !== "failed") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        rows = await contexts(batch.id);
      }
      assert.deepEqual(
        rows.map((r) => r.status),
        Array.from({ length: count }, () => "completed"),
        survivor.output(),
      );
      // The contexts the dead worker held were finished by the survivor, resuming after their saved components.
      for (const id of held) {
        const row = rows.find((r) => r.id === id);
        assert.equal(row?.worker_id, survivorId);
        assert.deepEqual(row?.completed_components, ["template", "ai_generator", "transformer"]);
        assert.equal(
          await eventually(
            () => platform.kv.get(kvKeys.workerLock(id)),
            (holder) => holder === null,
          ),
          null,
        );
      }
      // Exactly once: the batch counted each context once, each context's job succeeded once, and the
      // pipeline's statistics hold one duration per context.
      // (The batch's end is recorded a moment after its last context's.)
      const counted = await eventually(
        () =>
          platform.database.db
            .selectFrom("generation_batches")
            .select(["completed_count", "failed_count", "status"])
            .where("id", "=", batch.id)
            .executeTakeFirstOrThrow(),
        (row) => row.status !== "processing",
      );
      assert.deepEqual(counted, { completed_count: count, failed_count: 0, status: "completed" });
      const jobs = await platform.database.db
        .selectFrom("jobs")
        .select(["unique_key", "status"])
        .where("queue", "=", "generation.contexts")
        .execute();
      assert.equal(jobs.length, count);
      assert.ok(jobs.every((j) => j.status === "succeeded"));
      assert.equal(
        await eventually(
          () => platform.kv.zcard(kvKeys.pipelineStats(pipeline.id)),
          (n) => n >= count,
        ),
        count,
      );
    } finally {
      survivor.child.kill("SIGTERM");
      assert.equal(await exitOf(survivor.child), 0, survivor.output());
    }
  });

  function contexts(batchId: string) {
    return platform.database.db
      .selectFrom("generation_contexts")
      .select(["id", "status", "worker_id", "completed_components"])
      .where("batch_id", "=", batchId)
      .orderBy("id")
      .execute();
  }
});
