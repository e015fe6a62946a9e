import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../src/config/config.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { openPlatform } from "../../src/runtime/platform.ts";
import { exitOf, startCommand, startServe } from "../support/cli.ts";
import { httpClient } from "../support/http.ts";
import { rewriteAsLegacyHistory } from "../support/legacy-history.ts";

const DOCUMENTS = 12;
const VERSIONS = 8;

async function withPlatform<T>(
  dataDir: string,
  fn: (platform: Awaited<ReturnType<typeof openPlatform>>) => Promise<T>,
) {
  const platform = await openPlatform(loadConfig({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: "silent" }), {
    logger: createLogger("silent"),
  });
  try {
    return await fn(platform);
  } finally {
    await platform.close();
  }
}

describe("history migration across a crash (embedded strata serve)", () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "strata-history-"));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("survives kill -9 mid-way and finishes on restart with every version intact", async () => {
    const env = { PORT: "0", HOST: "127.0.0.1", STRATA_DATA_DIR: dataDir };
    const api = (base: string, token?: string) => httpClient(base, { token });

    // 1. Histories written through the API, by a real server.
    const expected = new Map<string, string[]>();
    const credentials = { email: "history@example.com", password: "correct horse battery staple" };
    {
      const server = await startServe(env);
      try {
        const reg = await api(server.url)("POST", "/v1/auth/register", { ...credentials, name: "H" });
        assert.equal(reg.status, 201);
        const call = api(server.url, reg.body.accessToken);
        const seeds = ["English prose, revised. ", "中文的段落，反复修改。", "Émojis 😀🎉 et accents. "];
        for (let d = 0; d < DOCUMENTS; d++) {
          let text = (seeds[d % seeds.length] as string).repeat(30 + d);
          const created = await call("POST", "/v1/documents", { title: `Doc ${d}`, content: text });
          assert.equal(created.status, 201);
          const contents = [text];
          for (let v = 1; v < VERSIONS; v++) {
            const chars = Array.from(text);
            chars.splice((v * 17 + d) % chars.length, 2, ...Array.from(`⟨${d}.${v}⟩`));
            text = chars.join("");
            contents.push(text);
            assert.equal(
              (await call("POST", `/v1/documents/${created.body.id}/versions`, { content: text })).status,
              201,
            );
          }
          expected.set(created.body.id, contents);
        }
      } finally {
        server.child.kill("SIGTERM");
      }
      assert.equal(await exitOf(server.child), 0);
    }

    // 2. The same histories in the earlier storage form, as an older server left them.
    await withPlatform(dataDir, async (platform) => {
      for (const id of expected.keys()) await rewriteAsLegacyHistory(platform.database.db, platform, id);
    });

    // 3. A server migrating one document per batch, killed with SIGKILL after the third.
    const slow = await startCommand(
      ["serve"],
      { ...env, LOG_LEVEL: "info", WRITING_HISTORY_MIGRATION_BATCH: "1", WRITING_HISTORY_MIGRATION_PAUSE_MS: "200" },
      /"documents":3,"versions":\d+,"msg":"history migration progress"/,
    );
    slow.child.kill("SIGKILL");
    assert.equal(await exitOf(slow.child), null);
    const midway = await withPlatform(dataDir, (platform) =>
      platform.database.db.selectFrom("writing_history_migration").selectAll().executeTakeFirstOrThrow(),
    );
    assert.ok(midway.documents_migrated >= 3 && midway.documents_migrated < DOCUMENTS, "killed mid-way");
    assert.equal(midway.finished_at, null);

    // 4. A restart finishes the job from where it stopped: the killed
    // process's job is handed back at start (it held the data directory, so
    // a job still running was its), not when its lease runs out.
    const restarted = await startCommand(
      ["serve"],
      { ...env, LOG_LEVEL: "info" },
      /"msg":"history migration finished"/,
    );
    try {
      let url: string | undefined;
      for (let i = 0; i < 200 && !url; i++) {
        url = /listening on (http:\/\/\S+:\d+)/.exec(restarted.output())?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(url, "the server listens");
      const login = await api(url)("POST", "/v1/auth/login", credentials);
      assert.equal(login.status, 200);
      const call = api(url, login.body.accessToken);
      for (const [id, contents] of expected) {
        const list = await call("GET", `/v1/documents/${id}/versions?limit=100`);
        assert.equal(list.body.items.length, VERSIONS, "no version lost");
        for (const v of list.body.items) assert.ok(["keyframe", "delta"].includes(v.storage), `${v.storage}`);
        for (let n = 1; n <= VERSIONS; n++) {
          const got = await call("GET", `/v1/documents/${id}/versions/${n}`);
          assert.equal(got.body.content, contents[n - 1], `document ${id} version ${n}`);
        }
        const doc = await call("GET", `/v1/documents/${id}`);
        assert.equal(doc.body.history.versions, VERSIONS);
        assert.ok(doc.body.history.storedBytes > 0);
      }
    } finally {
      restarted.child.kill("SIGTERM");
    }
    assert.equal(await exitOf(restarted.child), 0);
    const final = await withPlatform(dataDir, async (platform) => ({
      progress: await platform.database.db
        .selectFrom("writing_history_migration")
        .selectAll()
        .executeTakeFirstOrThrow(),
      legacy: await platform.database.db
        .selectFrom("document_versions")
        .select("id")
        .where("blob_key", "is not", null)
        .execute(),
    }));
    assert.equal(final.progress.documents_migrated, DOCUMENTS, "each document migrated exactly once");
    assert.equal(final.progress.versions_migrated, DOCUMENTS * VERSIONS);
    assert.ok(final.progress.finished_at);
    assert.equal(final.legacy.length, 0);
  });
});
