import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { client } from "../../../test/support/http.ts";
import { readRealHistory } from "../../../test/support/real-histories.ts";
import type { App } from "../../http/app.ts";
import { buildServer } from "../../http/server.ts";
import { ComputePool } from "../../platform/compute/compute-pool.ts";
import { spinTask } from "../../platform/compute/test-tasks.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import type { Platform } from "../../runtime/platform.ts";
import { writingModule } from "./index.ts";

/** Two far-apart real revisions of a 20-40 KB document. */
function farApartRevisions(): [string, string] {
  const revisions = readRealHistory("README.md");
  return [revisions[100] as string, revisions[400] as string];
}

describe("GET /v1/documents/:id/diff on large documents", () => {
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  let platform: Platform;
  let app: App;
  let call: ReturnType<typeof client>;
  let token: string;
  let docId: string;
  const [v1, v2] = farApartRevisions();

  before(async () => {
    opened = await openTestPlatform();
    platform = opened.platform;
    await createMigrator(platform.database, [writingModule]).up();
    app = await buildServer(platform, [writingModule]);
    call = client(app);
    token = (await call("POST", "/v1/auth/anonymous")).body.accessToken;
    const doc = await call("POST", "/v1/documents", { token, body: { title: "Big", content: v1 } });
    docId = doc.body.id;
    assert.equal((await call("POST", `/v1/documents/${docId}/versions`, { token, body: { content: v2 } })).status, 201);
  });
  after(async () => {
    await app?.close();
    await opened?.dispose();
  });

  it("diffs far-apart versions on the compute pool, finely and exactly", async () => {
    const res = await call("GET", `/v1/documents/${docId}/diff?from=1&to=2`, { token });
    assert.equal(res.status, 200);
    const changes = res.body.changes as { op: string; text: string }[];
    assert.equal(
      changes
        .filter((c) => c.op !== "insert")
        .map((c) => c.text)
        .join(""),
      v1,
    );
    assert.equal(
      changes
        .filter((c) => c.op !== "delete")
        .map((c) => c.text)
        .join(""),
      v2,
    );
    // Years of edits apart, yet most paragraphs are untouched and must show as such.
    assert.ok(res.body.stats.unchangedChars > 10_000, `${res.body.stats.unchangedChars} unchanged`);
    assert.equal(platform.compute.stats().completed.pool, 1, "ran on a worker thread");
    const metrics = (await call("GET", "/metrics")).body as string;
    assert.match(metrics, /strata_compute_tasks_total\{task="writing.display_diff",where="pool",outcome="ok"\} 1/);
    assert.match(metrics, /strata_event_loop_delay_window_seconds\{quantile="0.99"\}/);
  });

  it("answers 503 compute_busy with Retry-After while the pool is saturated, then serves again", async () => {
    const shared = platform.compute;
    const small = new ComputePool({ maxThreads: 1, maxQueue: 0 });
    platform.compute = small;
    try {
      const hold = small.run(spinTask, { ms: 1_500 });
      const busy = await call("GET", `/v1/documents/${docId}/diff?from=1&to=2`, { token });
      assert.equal(busy.status, 503);
      assert.equal(busy.body.error.code, "compute_busy");
      assert.ok(Number(busy.headers["retry-after"]) >= 1);
      // A small diff needs no thread, so it is served even now.
      const inline = await call("GET", `/v1/documents/${docId}/diff?from=1&to=1`, { token });
      assert.equal(inline.status, 200);
      await hold;
      assert.equal((await call("GET", `/v1/documents/${docId}/diff?from=2&to=1`, { token })).status, 200);
    } finally {
      platform.compute = shared;
      await small.close();
    }
  });
});
