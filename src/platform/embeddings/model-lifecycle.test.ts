import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { startEmbeddingsServer } from "../../../test/support/embeddings-server.ts";
import { eventually } from "../../../test/support/eventually.ts";
import { client } from "../../../test/support/http.ts";
import { registerUser } from "../../../test/support/writing-fixtures.ts";
import { loadConfig } from "../../config/config.ts";
import { buildServer } from "../../http/server.ts";
import { journalModule } from "../../modules/journal/index.ts";
import { writingModule } from "../../modules/writing/index.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import { openPlatform, type Platform } from "../../runtime/platform.ts";
import { startWorkers } from "../../runtime/workers.ts";
import { createLogger } from "../logging/logger.ts";
import { modelIndexName } from "./embedding-writes.ts";
import { HASHING_MODEL } from "./hashing-vectors.ts";

const modules = [writingModule, journalModule];
const SOURCE = "journal.entries";

/*
 * A model change across restarts of one embedded installation: the offline
 * hashing model first, then a configured endpoint's model. The same data
 * directory is opened twice, as an operator changing EMBEDDING_BASE_URL
 * would.
 */
describe("embedding model lifecycle (embedded, across a restart)", () => {
  let dir: string;
  let embeddings: Awaited<ReturnType<typeof startEmbeddingsServer>>;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strata-models-"));
    embeddings = await startEmbeddingsServer();
  });
  after(async () => {
    await embeddings?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const open = async (env: Record<string, string>) => {
    const config = loadConfig({ STRATA_DATA_DIR: dir, PUBLIC_URL: "http://strata.test", LOG_LEVEL: "silent", ...env });
    const platform = await openPlatform(config, { logger: createLogger("silent") });
    await createMigrator(platform.database, modules).up();
    const app = await buildServer(platform, modules);
    return { platform, app, call: client(app) };
  };
  const models = (platform: Platform) =>
    platform.database.db
      .selectFrom("embedding_models")
      .select(["model", "state", "dimensions"])
      .where("source", "=", SOURCE)
      .orderBy("model")
      .execute();
  const vectorCount = async (platform: Platform, model: string) =>
    Number(
      (
        await platform.database.db
          .selectFrom("embeddings")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("source", "=", SOURCE)
          .where("model", "=", model)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("re-embeds in throttled steps while queries use the old model, then retires it; rows written while no worker ran are embedded when one starts", async () => {
    // First life: the offline model, five entries embedded.
    const first = await open({});
    let stopWorkers = await startWorkers(first.platform, modules);
    const { token } = await registerUser(first.call, "Modeler");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await first.call("POST", "/v1/journal/entries", {
        token,
        body: { title: `Garden day ${i}`, content: `Planted tomatoes and basil in the garden, row ${i}.` },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids.push(res.body.id);
    }
    await eventually(
      () => vectorCount(first.platform, HASHING_MODEL),
      (n) => n === 5,
      30_000,
    );
    assert.deepEqual(
      (await models(first.platform)).map((m) => m.state),
      ["active"],
    );
    // An entry written while no worker runs (a crash between commit and embedding) waits in the outbox.
    await stopWorkers();
    const late = await first.call("POST", "/v1/journal/entries", {
      token,
      body: { title: "Late", content: "Written while the workers were down: the garden needs water." },
    });
    assert.equal(late.status, 201);
    ids.push(late.body.id);
    const waiting = await first.platform.database.db
      .selectFrom("embedding_outbox")
      .select("resource_id")
      .where("source", "=", SOURCE)
      .execute();
    assert.deepEqual(
      waiting.map((w) => w.resource_id),
      [late.body.id],
    );
    await first.app.close();
    await first.platform.close();

    // Second life: a configured model, built two entries per step with a pause between steps.
    const second = await open({
      EMBEDDING_BASE_URL: embeddings.baseUrl,
      EMBEDDING_MODEL: "letters-v2",
      EMBEDDING_BACKFILL_BATCH: "2",
      EMBEDDING_BACKFILL_PAUSE_MS: "400",
    });
    try {
      stopWorkers = await startWorkers(second.platform, modules);
      const building = await models(second.platform);
      assert.deepEqual(
        building.map((m) => [m.model, m.state]),
        [
          ["letters-v2", "building"],
          [HASHING_MODEL, "active"],
        ],
      );
      // While the new model is built, similarity still answers, from the old model's vectors.
      const similar = await second.call("GET", `/v1/journal/entries/${ids[0]}/similar`, { token });
      assert.equal(similar.status, 200, JSON.stringify(similar.body));
      assert.ok(similar.body.items.length > 0);
      // The entry that waited in the outbox is embedded with both models once a worker starts.
      await eventually(
        () =>
          second.platform.database.db
            .selectFrom("embeddings")
            .select("model")
            .where("resource_id", "=", late.body.id)
            .execute(),
        (rows) => rows.length === 2,
        30_000,
      );
      // The build ends: the new model is active, with its own dimension, and the old one is gone with its index.
      await eventually(
        () => models(second.platform),
        (rows) => rows.length === 1 && rows[0]?.state === "active",
        60_000,
      );
      const [active] = await models(second.platform);
      assert.equal(active?.model, "letters-v2");
      assert.equal(active?.dimensions, 8);
      assert.equal(await vectorCount(second.platform, "letters-v2"), 6);
      assert.equal(await vectorCount(second.platform, HASHING_MODEL), 0);
      const indexes = await sql<{
        indexname: string;
      }>`select indexname from pg_indexes where tablename = 'embeddings'`.execute(second.platform.database.db);
      const names = indexes.rows.map((r) => r.indexname);
      assert.ok(names.includes(modelIndexName(SOURCE, "letters-v2")), names.join(","));
      assert.ok(!names.includes(modelIndexName(SOURCE, HASHING_MODEL)), names.join(","));
      // The throttle: six entries at two per step took at least three steps, each its own request.
      const requested = embeddings.requests.filter((r) => r.body.model === "letters-v2").length;
      assert.ok(requested >= 3, `requests: ${requested}`);
      const after = await second.call("GET", `/v1/journal/entries/${ids[0]}/similar`, { token });
      assert.equal(after.status, 200);
      assert.ok(after.body.items.length > 0);
    } finally {
      await stopWorkers();
      await second.app.close();
      await second.platform.close();
    }
  });
});
