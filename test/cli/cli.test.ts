import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { exitOf, runCli, startCommand, startOnTerminal, startServe } from "../support/cli.ts";

describe("strata CLI (embedded)", () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "strata-cli-"));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("lists its commands", async () => {
    const { code, stdout } = await runCli(["--help"]);
    assert.equal(code, 0);
    for (const command of ["serve", "migrate", "worker", "jobs"]) assert.match(stdout, new RegExp(`\\b${command}\\b`));
    const migrate = await runCli(["migrate", "--help"]);
    for (const sub of ["up", "down", "status"]) assert.match(migrate.stdout, new RegExp(`\\b${sub}\\b`));
  });

  it("stops on a bad configuration value, naming the variable", async () => {
    const { code, stderr } = await runCli(["serve"], { PORT: "eighty", STRATA_DATA_DIR: dataDir });
    assert.equal(code, 78);
    assert.match(stderr, /configuration error: PORT /);
    assert.doesNotMatch(stderr, /at .*\.ts/, "no stack trace");
  });

  it("names a server dependency that is down and exits non-zero", async () => {
    const { code, stderr } = await runCli(["migrate", "status"], {
      DATABASE_URL: "postgres://strata:secret@127.0.0.1:1/strata",
      STRATA_SIGNING_SECRET: "a-signing-secret-of-at-least-32-characters",
      STRATA_DATA_DIR: dataDir,
    });
    assert.equal(code, 69);
    assert.match(stderr, /cannot start: database \(Postgres at 127\.0\.0\.1:1\/strata\) is not reachable/);
    assert.match(stderr, /ECONNREFUSED/);
    assert.doesNotMatch(stderr, /secret/, "credentials are never printed");
  });

  it("names an S3 endpoint that cannot be reached", async () => {
    const { code, stderr } = await runCli(["migrate", "status"], {
      STRATA_DATA_DIR: dataDir,
      S3_BUCKET: "strata-blobs",
      S3_ENDPOINT: "http://127.0.0.1:1",
      S3_ACCESS_KEY_ID: "key",
      S3_SECRET_ACCESS_KEY: "secret-key",
    });
    assert.equal(code, 69);
    assert.match(stderr, /cannot start: blobs \(S3 bucket strata-blobs at http:\/\/127\.0\.0\.1:1\) is not reachable/);
  });

  it("runs a worker process until it is told to stop", async () => {
    const worker = await startCommand(["worker"], { STRATA_DATA_DIR: dataDir, LOG_LEVEL: "info" }, /"worker started"/);
    worker.child.kill("SIGTERM");
    assert.equal(await exitOf(worker.child), 0);
    assert.match(worker.output(), /"msg":"worker started"/);
  });

  it("serves on the embedded profile, migrates on start, and shuts down cleanly", async () => {
    const server = await startServe({ STRATA_DATA_DIR: dataDir });
    try {
      assert.match(server.output(), new RegExp(`data in ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      const ready = await fetch(`${server.url}/ready`);
      assert.equal(ready.status, 200);
      assert.equal(((await ready.json()) as any).profile, "embedded");
      const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as any;
      for (const path of [
        "/v1/auth/register",
        "/v1/organizations",
        "/v1/documents",
        "/v1/documents/{documentId}/diff",
      ]) {
        assert.ok(openapi.paths[path], `${path} is documented`);
      }
    } finally {
      server.child.kill("SIGTERM");
    }
    assert.equal(await exitOf(server.child), 0);
    // The data survived the restart: migrations are recorded as applied.
    const status = await runCli(["migrate", "status"], { STRATA_DATA_DIR: dataDir });
    assert.equal(status.code, 0);
    assert.match(status.stdout, /1\s+applied\s+platform_extensions/);
    assert.match(status.stdout, /2\s+applied\s+identity/);
  });

  it("reverts and re-applies migrations", async () => {
    const down = await runCli(["migrate", "down", "99"], { STRATA_DATA_DIR: dataDir });
    assert.equal(down.code, 0, down.stderr);
    assert.match(
      down.stdout,
      /reverted 101 writing_content_objects\nreverted 100 writing_documents\nreverted 6 change_outbox\nreverted 5 embeddings\nreverted 4 jobs_complete_and_claim\nreverted 3 jobs\nreverted 2 identity\nreverted 1 platform_extensions\n$/,
    );
    const up = await runCli(["migrate", "up"], { STRATA_DATA_DIR: dataDir });
    assert.match(
      up.stdout,
      /^applied 1 platform_extensions\napplied 2 identity\napplied 3 jobs\napplied 4 jobs_complete_and_claim\napplied 5 embeddings\napplied 6 change_outbox\napplied 100 writing_documents\napplied 101 writing_content_objects\napplied 110 writing_document_search\napplied 120 writing_document_change_notify\napplied 200 generation_data\napplied 201 generation_processing\napplied 202 generation_contexts_by_pipeline\napplied 203 generation_context_changes\napplied 300 journal_schema\napplied 301 journal_lexemes\napplied 400 chat_schema\napplied 401 chat_files\napplied 402 chat_retrieval\napplied 500 knowledge_schema\napplied 501 knowledge_archive\n$/,
    );
    const again = await runCli(["migrate", "up"], { STRATA_DATA_DIR: dataDir });
    assert.match(again.stdout, /up to date/);
    const bad = await runCli(["migrate", "down", "zero"], { STRATA_DATA_DIR: dataDir });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /count must be a positive integer/);
  });

  it("loads the starter data with `strata seed`, idempotently, with a progress bar on a terminal", async () => {
    const seedDir = await mkdtemp(path.join(tmpdir(), "strata-seed-"));
    try {
      const first = await runCli(["seed"], { STRATA_DATA_DIR: seedDir });
      assert.equal(first.code, 0, first.stderr);
      const added = /^knowledge: (\d+) added, 0 updated, 0 unchanged\n$/.exec(first.stdout);
      assert.ok(added, first.stdout);
      assert.ok(Number(added[1]) >= 30, "a useful starter set");
      assert.doesNotMatch(first.stderr, /knowledge +\[/, "no progress bar off a terminal");
      const onTerminal = await startOnTerminal(["seed"], { STRATA_DATA_DIR: seedDir, LOG_LEVEL: "warn" }, /unchanged/);
      await exitOf(onTerminal.child);
      const output = onTerminal.output();
      assert.match(output, new RegExp(`knowledge +\\[[^\\]]+\\] ${added[1]}/${added[1]}`), "the bar reached the end");
      assert.match(output, new RegExp(`knowledge: 0 added, 0 updated, ${added[1]} unchanged`));
    } finally {
      await rm(seedDir, { recursive: true, force: true });
    }
  });

  it("lists, retries and cancels jobs for an operator", async () => {
    const { loadConfig } = await import("../../src/config/config.ts");
    const { openPlatform } = await import("../../src/runtime/platform.ts");
    const { createLogger } = await import("../../src/platform/logging/logger.ts");
    const platform = await openPlatform(loadConfig({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: "silent" }), {
      logger: createLogger("silent"),
    });
    let failed: string;
    let pending: string;
    try {
      [failed, pending] = (await platform.jobs.enqueueMany(platform.database.db, [
        { queue: "cli_failed" },
        { queue: "cli_pending", runAt: new Date(Date.now() + 3_600_000) },
      ])) as [string, string];
      await platform.database.db
        .updateTable("jobs")
        .set({ status: "failed", attempts: 5, last_error: "Error: the provider said no", finished_at: new Date() })
        .where("id", "=", failed)
        .execute();
    } finally {
      await platform.close();
    }
    const env = { STRATA_DATA_DIR: dataDir };
    const list = await runCli(["jobs", "list", "--status", "failed"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${failed}\\s+cli_failed\\s+failed\\s+5/5 .*the provider said no`));
    assert.doesNotMatch(list.stdout, new RegExp(pending));

    assert.match((await runCli(["jobs", "retry", failed], env)).stdout, new RegExp(`retried ${failed}`));
    assert.match((await runCli(["jobs", "list", "--queue", "cli_failed"], env)).stdout, /pending\s+0\/5/);
    const notFailed = await runCli(["jobs", "retry", pending], env);
    assert.equal(notFailed.code, 1);
    assert.match(notFailed.stderr, /only a failed or cancelled job can be retried/);

    assert.match((await runCli(["jobs", "cancel", pending], env)).stdout, new RegExp(`cancelled ${pending}`));
    assert.match((await runCli(["jobs", "list", "--queue", "cli_pending"], env)).stdout, /cancelled/);
    const missing = await runCli(["jobs", "cancel", "00000000-0000-4000-8000-000000000000"], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such job/);
    const bad = await runCli(["jobs", "retry", "not-an-id"], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /a job id is a UUID/);
  });
});
