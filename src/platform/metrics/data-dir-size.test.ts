import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { buildServer } from "../../http/server.ts";
import { openDatabase } from "../database/database.ts";
import { DataDirSizeCache, measureDataDir, registerDataDirGauge } from "./data-dir-size.ts";

describe("data directory sizes", () => {
  let root: string;
  const layout = () => ({ root, pg: path.join(root, "pg"), blobs: path.join(root, "blobs") });

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "strata-datadir-"));
    const database = await openDatabase({ driver: "pglite", dataDir: layout().pg, statementTimeoutMs: 30_000 });
    await database.close();
    await mkdir(path.join(root, "blobs", "documents", "u"), { recursive: true });
    await writeFile(path.join(root, "blobs", "documents", "u", "a#blob"), Buffer.alloc(1000));
    await writeFile(path.join(root, "blobs", "b#blob"), Buffer.alloc(234));
    await writeFile(path.join(root, "signing-secret"), Buffer.alloc(64));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("measures each part of a real data directory", async () => {
    const sizes = await measureDataDir(layout());
    assert.equal(sizes.blobs, 1234);
    assert.equal(sizes.other, 64);
    // A fresh database: the catalog's tables in base/, 1 MB WAL segments.
    assert.ok(sizes.pg_base > 5_000_000, `pg_base ${sizes.pg_base}`);
    assert.ok(sizes.pg_wal >= 1024 * 1024 && sizes.pg_wal % (1024 * 1024) === 0, `pg_wal ${sizes.pg_wal}`);
    assert.ok(sizes.pg_other > 0 && sizes.pg_other < sizes.pg_base, `pg_other ${sizes.pg_other}`);
  });

  it("answers from its cache, refreshing in the background once it is older than its age limit", async () => {
    const cache = new DataDirSizeCache(layout(), 60_000);
    const first = await cache.current();
    await writeFile(path.join(root, "blobs", "c#blob"), Buffer.alloc(100));
    assert.equal((await cache.current()).blobs, first.blobs, "within its age limit: no walk");

    const eager = new DataDirSizeCache(layout(), 0);
    const before = await eager.current();
    assert.equal(before.blobs, 1334, "the first answer waits for the first walk");
    await writeFile(path.join(root, "blobs", "d#blob"), Buffer.alloc(10));
    assert.equal((await eager.current()).blobs, 1334, "a stale cache answers at once and starts a walk");
    const deadline = Date.now() + 20_000;
    while ((await eager.current()).blobs !== 1344 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await eager.current()).blobs, 1344, "the background walk's result");
  });

  it("exposes strata_data_dir_bytes{part} on the registry", async () => {
    const registry = new Registry();
    registerDataDirGauge(registry, layout());
    const text = await registry.metrics();
    for (const part of ["pg_base", "pg_wal", "pg_other", "blobs", "other"]) {
      assert.match(text, new RegExp(`strata_data_dir_bytes\\{part="${part}"\\} \\d+`));
    }
    assert.match(text, /strata_data_dir_bytes\{part="blobs"\} 1344/);
  });
});

describe("/metrics on the embedded profile", () => {
  it("reports the data directory's blobs and database by part", async () => {
    const opened = await openTestPlatform();
    try {
      const app = await buildServer(opened.platform, []);
      await opened.platform.blobs.put("documents/x/y", "hello");
      const res = await app.inject({ method: "GET", url: "/metrics" });
      assert.equal(res.statusCode, 200);
      const blobs = Number(/strata_data_dir_bytes\{part="blobs"\} (\d+)/.exec(res.body)?.[1]);
      // The file holds the content and the store's metadata trailer.
      assert.ok(blobs > 5 && blobs < 4096, `blobs ${blobs}`);
      // This test platform keeps PGlite in memory, so nothing is on disk for it.
      assert.match(res.body, /strata_data_dir_bytes\{part="pg_wal"\} 0/);
      await app.close();
    } finally {
      await opened.dispose();
    }
  });
});
