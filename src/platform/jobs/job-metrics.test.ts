import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import type { Platform } from "../../runtime/platform.ts";

describe("job metrics", () => {
  let platform: Platform;
  let dispose: () => Promise<void>;

  before(async () => {
    const opened = await openTestPlatform();
    platform = opened.platform;
    dispose = opened.dispose;
    await createMigrator(platform.database, []).up();
  });
  after(async () => dispose?.());

  const scrape = () => platform.metrics.registry.metrics();

  it("reports queue depth, the oldest job's wait, and what this process finished", async () => {
    const db = platform.database.db;
    await platform.jobs.enqueueMany(db, [
      { queue: "metrics_waiting", runAt: new Date(Date.now() - 90_000) },
      { queue: "metrics_waiting" },
      { queue: "metrics_later", runAt: new Date(Date.now() + 3_600_000) },
    ]);
    let text = await scrape();
    assert.match(text, /strata_jobs\{queue="metrics_waiting",status="pending"\} 2/);
    assert.doesNotMatch(text, /queue="metrics_later"/, "a job not yet due is not waiting");
    const oldest = Number(/strata_job_oldest_pending_seconds\{queue="metrics_waiting"\} ([\d.]+)/.exec(text)?.[1]);
    assert.ok(oldest >= 89 && oldest < 120, `oldest waited ${oldest} s`);

    const seen: number[] = [];
    const stop = platform.jobs.work(
      "metrics_run",
      async ({ job }) => {
        seen.push(1);
        if ((job.payload as { fail?: boolean }).fail) throw new Error("as asked");
      },
      { backoff: { baseMs: 1, maxMs: 1 } },
    );
    await platform.jobs.enqueueMany(db, [
      { queue: "metrics_run" },
      { queue: "metrics_run" },
      { queue: "metrics_run", payload: { fail: true }, maxAttempts: 1 },
    ]);
    const end = Date.now() + 10_000;
    while (seen.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await stop();
    text = await scrape();
    assert.match(text, /strata_jobs_finished_total\{queue="metrics_run",outcome="succeeded"\} 2/);
    assert.match(text, /strata_jobs_finished_total\{queue="metrics_run",outcome="failed"\} 1/);
    // A second scrape does not count them again.
    assert.match(await scrape(), /strata_jobs_finished_total\{queue="metrics_run",outcome="succeeded"\} 2/);
  });
});
