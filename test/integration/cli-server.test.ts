import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { exitOf, runCli, startCommand, startServe } from "../support/cli.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";

describe("strata CLI (server profile)", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let env: Record<string, string>;
  before(async () => {
    scratch = await createScratchDatabase();
    env = {
      DATABASE_URL: scratch.url,
      STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
      REDIS_URL: services.redisUrl,
      KV_KEY_PREFIX: `test:${scratch.name}:`,
    };
  });
  after(async () => {
    await scratch?.drop();
  });

  it("migrates up, reports status, and reverts against the Postgres server", async () => {
    const before = await runCli(["migrate", "status"], env);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /1\s+pending\s+platform_extensions/);
    const up = await runCli(["migrate", "up"], env);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /applied 1 platform_extensions/);
    assert.match((await runCli(["migrate", "status"], env)).stdout, /1\s+applied\s+platform_extensions/);
    const down = await runCli(["migrate", "down"], env);
    assert.match(down.stdout, /reverted 501 knowledge_archive/);
    await runCli(["migrate", "up"], env);
  });

  it("serves against Postgres and Redis without migrating on its own", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "strata-cli-server-"));
    const server = await startServe({ ...env, STRATA_DATA_DIR: dataDir });
    try {
      const ready = (await (await fetch(`${server.url}/ready`)).json()) as any;
      assert.equal(ready.dependencies.database.driver, "postgres");
      assert.equal(ready.dependencies.kv.driver, "redis");
      assert.equal(ready.profile, "mixed");
    } finally {
      server.child.kill("SIGTERM");
    }
    assert.equal(await exitOf(server.child), 0);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("names Redis when it cannot be reached at start", async () => {
    const { code, stderr } = await runCli(["serve"], { ...env, REDIS_URL: "redis://127.0.0.1:1" });
    assert.equal(code, 69);
    assert.match(stderr, /kv \(Redis at 127\.0\.0\.1:1\) is not reachable/);
  });

  /** Both processes schedule and work every slot of a maintenance that runs every second; each slot runs once. */
  async function maintenanceRunsOncePerSlot(args: string[], ready: RegExp) {
    const workerEnv = {
      ...env,
      WRITING_MAINTENANCE_CRON: "* * * * * *",
      LOG_LEVEL: "info",
      PORT: "0",
      HOST: "127.0.0.1",
    };
    const dirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(tmpdir(), "strata-cli-worker-"))));
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      await client.query("delete from jobs where queue = 'writing.maintenance'");
      const processes = await Promise.all(
        dirs.map((dir) => startCommand(args, { ...workerEnv, STRATA_DATA_DIR: dir }, ready)),
      );
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      for (const p of processes) p.child.kill("SIGTERM");
      for (const p of processes) assert.equal(await exitOf(p.child), 0, p.output());
      const { rows } = await client.query<{ unique_key: string; status: string; attempts: number }>(
        "select unique_key, status, attempts from jobs where queue = 'writing.maintenance'",
      );
      const finished = rows.filter((r) => r.status === "succeeded");
      assert.ok(finished.length >= 2, `${finished.length} slots run: ${JSON.stringify(rows)}`);
      // One job per slot, whichever process enqueued it first, each run once.
      assert.equal(new Set(rows.map((r) => r.unique_key)).size, rows.length);
      assert.ok(finished.every((r) => r.attempts === 1));
    } finally {
      await client.end();
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }
  }

  it("runs the writing maintenance once per slot across two worker processes", async () => {
    await maintenanceRunsOncePerSlot(["worker"], /"worker started"/);
  });

  it("runs the writing maintenance once per slot across two server processes serving with workers", async () => {
    await maintenanceRunsOncePerSlot(["serve", "--workers"], /"workers started"/);
  });
});
