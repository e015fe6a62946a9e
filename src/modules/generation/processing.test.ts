import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { sql } from "kysely";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { eventually } from "../../../test/support/eventually.ts";
import { articlePipeline, generationAccount, noOpPipeline } from "../../../test/support/generation-fixtures.ts";
import { claimJobs } from "../../platform/jobs/job-queries.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import type { Platform } from "../../runtime/platform.ts";
import { BatchEndChecks } from "./batch-end-checks.ts";
import { createBatch } from "./batches.ts";
import { processContext } from "./context-processing.ts";
import { CONTEXT_QUEUE } from "./context-queue.ts";
import { startContextWorkers } from "./context-workers.ts";
import { createContext } from "./contexts.ts";
import { generationModule } from "./index.ts";
import { kvKeys } from "./kv-keys.ts";
import { WorkerPresence } from "./worker-presence.ts";

describe("generation processing", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  let platform: Platform;
  let stopWorkers: (() => Promise<void>) | null = null;

  before(async () => {
    ai = await startChatCompletionsServer();
    opened = await openTestPlatform({
      AI_BASE_URL: ai.baseUrl,
      GENERATION_LEASE_MS: "1000",
      GENERATION_MAX_RETRIES: "1",
      // A budget the tests never exhaust, so that every completion draws on it.
      AI_MODEL_LIMITS: "gpt-4=10000000/100000",
    });
    platform = opened.platform;
    await createMigrator(platform.database, [generationModule]).up();
  });
  afterEach(async () => {
    await stopWorkers?.();
    stopWorkers = null;
  });
  after(async () => {
    await opened.dispose();
    await ai.stop();
  });

  async function work(concurrency = 2) {
    stopWorkers = await startContextWorkers(platform, concurrency);
  }

  /** The batch's row once its end is recorded (a moment after its last context's end, by the worker's check). */
  function endedBatch(batchId: string) {
    return eventually(
      () =>
        platform.database.db
          .selectFrom("generation_batches")
          .selectAll()
          .where("id", "=", batchId)
          .executeTakeFirstOrThrow(),
      (row) => row.status !== "pending" && row.status !== "processing",
    );
  }

  /** Waits until every given context has ended (completed, failed or cancelled). */
  async function ended(ids: string[], timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await platform.database.db
        .selectFrom("generation_contexts")
        .selectAll()
        .where("id", "in", ids)
        .execute();
      if (rows.length === ids.length && rows.every((r) => ["completed", "failed", "cancelled"].includes(r.status))) {
        return new Map(rows.map((r) => [r.id, r]));
      }
      if (Date.now() > deadline) throw new Error(`contexts still running: ${rows.map((r) => r.status).join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it("runs a context through template, ai_generator and transformer, as the seed's example context", async () => {
    const budget = platform.aiBudget!;
    const acquire = budget.acquire.bind(budget);
    const budgetDraws: string[] = [];
    budget.acquire = (request) => {
      budgetDraws.push(request.model);
      return acquire(request);
    };
    const owner = await generationAccount(platform);
    const pipeline = await articlePipeline(platform, owner);
    const sent = ai.requests.length;
    const context = await createContext(platform, owner, {
      type: "article",
      pipelineId: pipeline.id,
      data: {
        title: "Example Article",
        keywords: ["microservices", "architecture", "documentation"],
        target_audience: "developers",
        tone: "technical",
      },
    });
    await work();
    const row = (await ended([context.id])).get(context.id)!;
    assert.equal(row.status, "completed", JSON.stringify(row.error));
    assert.deepEqual(row.completed_components, ["template", "ai_generator", "transformer"]);
    assert.deepEqual(Object.keys(row.component_timings).sort(), ["ai_generator", "template", "transformer"]);
    assert.ok(row.started_at && row.completed_at && Number(row.duration_ms) >= 0);
    const result = row.result as any;
    // Three keywords: three instances of the repeated section, between its min (2) and max (5).
    assert.deepEqual(
      result.template.sections.map((s: any) => s.id),
      ["introduction", "main_content_1", "main_content_2", "main_content_3", "conclusion"],
    );
    assert.equal(result.template.sections[0].instructions, "Introduce Example Article for developers");
    assert.equal(result.template.sections[2].instructions, "Expand on architecture");
    assert.equal(result.generated_content.main_content.length, 3);
    const markdown: string = result.formatted_content.content;
    assert.match(markdown, /^# Example Article\n\n## Contents\n\n- \[Introduction\]\(#introduction\)/);
    assert.match(markdown, /## Main Content\n/);
    assert.match(markdown, /## Conclusion\n/);
    // One completion per section, with the component's model and the pipeline's temperature override.
    const requests = ai.requests.slice(sent);
    assert.equal(requests.length, 5);
    for (const request of requests) {
      assert.equal(request.body.model, "gpt-4");
      assert.equal(request.body.temperature, 0.65);
      assert.equal(request.body.max_tokens, 2000);
      assert.deepEqual(request.body.stop, ["\n\n\n"]);
    }
    assert.match(requests[0]!.body.messages[1].content, /Length: between 150 and 300 words/);
    // Tokens in and out, priced by the component's cost_per_1k_tokens.
    assert.equal(row.input_tokens, 5 * 10);
    assert.ok(row.output_tokens > 0);
    assert.equal(Number(row.cost_usd), Number((((row.input_tokens + row.output_tokens) / 1000) * 0.06).toFixed(6)));
    // The seed's Redis structures, written just after the completion commits: the lock is gone, the
    // duration is in the pipeline's stats, the worker beats.
    const stats = await eventually(
      () => platform.kv.zrange(kvKeys.pipelineStats(pipeline.id), 0, -1),
      (members) => members.length > 0,
    );
    assert.equal(await platform.kv.get(kvKeys.workerLock(context.id)), null);
    assert.deepEqual(
      stats.map((s) => s.member),
      [`${row.duration_ms}:${context.id}`],
    );
    const ttl = await platform.kv.ttl(kvKeys.pipelineStats(pipeline.id));
    assert.ok(ttl > 86_000_000 && ttl <= 86_400_000, `pipeline_stats TTL ${ttl}`);
    // Every completion drew on the provider's shared budget for the component's model.
    assert.deepEqual(budgetDraws, ["gpt-4", "gpt-4", "gpt-4", "gpt-4", "gpt-4"]);
    budget.acquire = acquire;
    const beat = await platform.kv.hgetall(kvKeys.workerHeartbeat(platform.jobs.workerId));
    assert.equal(beat.host?.length ? "host" : "", "host");
    assert.ok(Date.parse(beat.last_seen ?? "") > 0);
    assert.ok((await platform.kv.ttl(kvKeys.workerHeartbeat(platform.jobs.workerId))) <= 60_000);
  });

  it("processes a batch, its counts true under concurrent workers, and ends the batch with its last context", async () => {
    const owner = await generationAccount(platform);
    const pipeline = await noOpPipeline(platform, owner);
    const batch = await createBatch(platform, owner, {
      name: "Daily",
      pipelineId: pipeline.id,
      contexts: Array.from({ length: 30 }, (_, i) => ({ data: { n: i } })),
    });
    await work(8);
    await ended(batch.contextIds);
    const row = await endedBatch(batch.id);
    assert.equal(row.completed_count, 30);
    assert.equal(row.failed_count, 0);
    assert.equal(row.status, "completed");
    assert.ok(row.processing_started_at && row.processing_completed_at);
    assert.ok(Number(row.total_duration_ms) >= 0);
  });

  it("claims in the seed's polling order: priority first, then age", async () => {
    const owner = await generationAccount(platform);
    const pipeline = await noOpPipeline(platform, owner);
    const late = [];
    for (let i = 0; i < 3; i++) late.push(await createContext(platform, owner, { type: "x", pipelineId: pipeline.id }));
    const urgent = await createContext(platform, owner, { type: "x", pipelineId: pipeline.id, priority: 1 });
    const last = await createContext(platform, owner, { type: "x", pipelineId: pipeline.id, priority: 9 });
    await work(1);
    const rows = await ended([...late.map((c) => c.id), urgent.id, last.id]);
    const order = [...rows.values()]
      .sort((a, b) => (a.started_at as Date).getTime() - (b.started_at as Date).getTime() || 0)
      .map((r) => r.id);
    assert.deepEqual(order, [urgent.id, ...late.map((c) => c.id), last.id]);
  });

  it("retries a failed component with backoff, then keeps the context as failed with its error", async () => {
    const owner = await generationAccount(platform);
    const pipeline = await articlePipeline(platform, owner);
    const batch = await createBatch(platform, owner, {
      name: "Failing",
      pipelineId: pipeline.id,
      contexts: [{ data: { title: "T", keywords: ["a", "b"] } }],
    });
    const id = batch.contextIds[0]!;
    ai.failNext(1_000, 500);
    await work(1);
    // The first failure: back to pending, retry_count 1, a next_retry_at seconds away, the error kept.
    const deadline = Date.now() + 20_000;
    let row = await platform.database.db
      .selectFrom("generation_contexts")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    while (row.retry_count === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      row = await platform.database.db
        .selectFrom("generation_contexts")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
    }
    assert.equal(row.status, "pending");
    assert.equal(row.retry_count, 1);
    assert.ok(row.next_retry_at && (row.next_retry_at as Date).getTime() > Date.now());
    assert.deepEqual(row.completed_components, ["template"], "the template's work is kept for the retry");
    assert.equal((row.error as any).code, "ai_provider_error");
    assert.equal((row.error as any).component, "ai_generator");
    // Make the retry due now rather than wait out its backoff; with GENERATION_MAX_RETRIES=1 it then fails.
    await sql`update jobs set run_at = now() where queue = ${CONTEXT_QUEUE} and status = 'pending'`.execute(
      platform.database.db,
    );
    await platform.database.db
      .updateTable("generation_contexts")
      .set({ next_retry_at: null })
      .where("id", "=", id)
      .execute();
    const final = (await ended([id])).get(id)!;
    ai.failNext(0, 500);
    assert.equal(final.status, "failed");
    assert.equal(final.retry_count, 1);
    const counted = await endedBatch(batch.id);
    assert.deepEqual(
      { failed_count: counted.failed_count, status: counted.status },
      { failed_count: 1, status: "failed" },
    );
  });

  it("waits out a provider's 429 for its Retry-After without counting it as a failure", async () => {
    const owner = await generationAccount(platform);
    const pipeline = await articlePipeline(platform, owner);
    const context = await createContext(platform, owner, {
      type: "article",
      pipelineId: pipeline.id,
      data: { title: "Paced", keywords: ["a", "b"] },
    });
    const sent = ai.requests.length;
    ai.busyNext(2, { "retry-after": "1" });
    await work(1);
    const row = (await ended([context.id])).get(context.id)!;
    assert.equal(row.status, "completed", JSON.stringify(row.error));
    assert.equal(row.retry_count, 0);
    assert.equal(row.error, null);
    // Four sections, and the two refused calls sent again.
    assert.equal(ai.requests.length - sent, 4 + 2);
  });

  it("fails at once what retrying cannot fix: a template that does not exist", async () => {
    const owner = await generationAccount(platform);
    const pipeline = await articlePipeline(platform, owner, "tmpl_gone");
    await platform.database.db
      .updateTable("generation_templates")
      .set({ is_active: false })
      .where("organization_id", "=", owner.organizationId)
      .execute();
    const context = await createContext(platform, owner, { type: "article", pipelineId: pipeline.id });
    await work(1);
    const row = (await ended([context.id])).get(context.id)!;
    assert.equal(row.status, "failed");
    assert.equal(row.retry_count, 0);
    assert.deepEqual(row.error, {
      code: "template_not_found",
      message: "no active template tmpl_gone",
      component: "template",
    });
  });

  it("leaves a context cancelled before a worker reaches it alone", async () => {
    const owner = await generationAccount(platform);
    const pipeline = await noOpPipeline(platform, owner);
    const context = await createContext(platform, owner, { type: "x", pipelineId: pipeline.id });
    await platform.database.db
      .updateTable("generation_contexts")
      .set({ status: "cancelled" })
      .where("id", "=", context.id)
      .execute();
    await work(1);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const job = await platform.database.db
        .selectFrom("jobs")
        .select("status")
        .where("queue", "=", CONTEXT_QUEUE)
        .where("unique_key", "=", `context:${context.id}:0`)
        .executeTakeFirstOrThrow();
      if (job.status === "succeeded") break;
      assert.ok(Date.now() < deadline, `job still ${job.status}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const row = (await ended([context.id])).get(context.id)!;
    assert.equal(row.status, "cancelled");
    assert.equal(row.started_at, null);
  });

  it("starts on its own a context its job's claim did not see (a job newer than the claim's statement)", async () => {
    // The claim's function takes a newer snapshot than the statement around it: a job and context committed
    // between the two are claimed without the context's start, and the job reaches its handler with no
    // claimData. The handler must start the context itself, not drop the job and leave the context pending.
    const owner = await generationAccount(platform);
    const pipeline = await noOpPipeline(platform, owner);
    const context = await createContext(platform, owner, { type: "x", pipelineId: pipeline.id });
    const [claimed] = await claimJobs(platform.database.db, {
      queue: CONTEXT_QUEUE,
      limit: 1,
      leaseMs: 60_000,
      workerId: platform.jobs.workerId,
    });
    assert.ok(claimed && claimed.claimData === null);
    const handed: unknown[] = [];
    const presence = new WorkerPresence(platform.kv, platform.jobs.workerId, 1, platform.logger);
    const batchEnds = new BatchEndChecks(platform.database.db, platform.logger);
    await processContext(
      platform,
      { presence, batchEnds },
      {
        job: claimed,
        signal: new AbortController().signal,
        stopping: new AbortController().signal,
        fence: async () => {},
        complete: async () => {},
        completeInClaim: async (data) => {
          handed.push(data);
          return null;
        },
      },
    );
    await presence.stop();
    const row = await platform.database.db
      .selectFrom("generation_contexts")
      .select(["status", "worker_id", "started_at"])
      .where("id", "=", context.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, "processing", "started by the handler");
    assert.equal(row.worker_id, platform.jobs.workerId);
    assert.ok(row.started_at);
    assert.equal(handed.length, 1, "its completion was handed to the next claim");
    assert.equal((handed[0] as { contextId: string }).contextId, context.id);
    assert.deepEqual((handed[0] as { completedComponents: string[] }).completedComponents, ["transformer"]);
  });

  it("finishes, exactly once, a context whose worker lost its claim, taking over its worker_lock", async () => {
    const owner = await generationAccount(platform);
    const pipeline = await noOpPipeline(platform, owner);
    const batch = await createBatch(platform, owner, { name: "Takeover", pipelineId: pipeline.id, contexts: [{}] });
    const id = batch.contextIds[0]!;
    // A worker that claimed the context, took its lock, started it and died: its lease runs out in 1 ms.
    const [claimed] = await claimJobs(platform.database.db, {
      queue: CONTEXT_QUEUE,
      limit: 1,
      leaseMs: 1,
      workerId: "dead-worker",
    });
    assert.ok(claimed);
    await platform.kv.set(kvKeys.workerLock(id), "dead-worker", { ttlMs: 300_000 });
    await platform.database.db
      .updateTable("generation_contexts")
      .set({ status: "processing", worker_id: "dead-worker", started_at: new Date() })
      .where("id", "=", id)
      .execute();
    await work(1);
    const row = (await ended([id])).get(id)!;
    assert.equal(row.status, "completed");
    assert.equal(row.worker_id, platform.jobs.workerId);
    const counted = await endedBatch(batch.id);
    assert.deepEqual(
      { completed_count: counted.completed_count, status: counted.status },
      { completed_count: 1, status: "completed" },
    );
    // The dead worker's late completion is fenced off: its lease version is no longer the job's.
    const job = await platform.database.db
      .selectFrom("jobs")
      .select(["lease_version", "status"])
      .where("id", "=", claimed.id)
      .executeTakeFirstOrThrow();
    assert.equal(job.status, "succeeded");
    assert.ok(job.lease_version > claimed.leaseVersion);
  });
});
