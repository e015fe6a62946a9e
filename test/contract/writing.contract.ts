import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { readBytes, readObjectContent } from "../../src/modules/writing/content-objects.ts";
import { writingModule } from "../../src/modules/writing/index.ts";
import { runWritingMaintenance } from "../../src/modules/writing/maintenance.ts";
import { MAX_ANCHOR_DEPTH, RUN_LENGTH, sha256Hex } from "../../src/modules/writing/object-codec.ts";
import { awaitSearchIndexing } from "../../src/modules/writing/search-indexer.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import { wireModules } from "../../src/runtime/module-wiring.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { startChatCompletionsServer } from "../support/chat-completions-server.ts";
import { client } from "../support/http.ts";

export interface WritingHarness {
  platform: Platform;
  /** Fetches a signed download URL (the embedded store's links are served by the API itself). */
  fetchSigned(url: string, app: App): Promise<{ status: number; text: string }>;
  dispose(): Promise<void>;
}

/** A browser app's origin that every harness lists in CORS_ORIGINS. */
export const WRITING_APP_ORIGIN = "https://app.example.com";

/**
 * Every point of the writing issue, over HTTP, against one platform. `open`
 * receives the AI provider's base URL and configures CORS_ORIGINS to WRITING_APP_ORIGIN.
 */
export function writingContract(name: string, open: (aiBaseUrl: string) => Promise<WritingHarness>) {
  describe(`writing module: ${name}`, () => {
    let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
    let harness: WritingHarness;
    let platform: Platform;
    let app: App;
    let call: ReturnType<typeof client>;
    const db = () => platform.database.db as any;
    const password = "correct horse battery staple";

    before(async () => {
      ai = await startChatCompletionsServer();
      harness = await open(ai.baseUrl);
      platform = harness.platform;
      await createMigrator(platform.database, [writingModule]).up();
      wireModules(platform, [writingModule]);
      app = await buildServer(platform, [writingModule]);
      call = client(app);
    });
    after(async () => {
      await app?.close();
      await harness?.dispose();
      await ai?.stop();
    });

    async function user() {
      const res = await call("POST", "/v1/auth/register", {
        body: { email: `w-${randomUUID().slice(0, 8)}@example.com`, password, name: "Writer" },
      });
      assert.equal(res.status, 201);
      return {
        token: res.body.accessToken as string,
        id: res.body.user.id as string,
        refresh: res.body.refreshToken as string,
      };
    }
    async function newDoc(token: string, body: Record<string, unknown> = {}) {
      const res = await call("POST", "/v1/documents", {
        token,
        body: { title: "Draft", content: "hello world", ...body },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    }

    describe("documents", () => {
      it("creates a document with its first version, content in the blob store under the seed's keys", async () => {
        const me = await user();
        const doc = await newDoc(me.token, {
          title: "Essay",
          content: "First draft.",
          tags: ["School", "draft ", "draft"],
          description: "d",
        });
        assert.equal(doc.currentVersion.number, 1);
        assert.equal(doc.content, "First draft.");
        assert.deepEqual(doc.tags, ["draft", "school"]);
        const read = await call("GET", `/v1/documents/${doc.id}`, { token: me.token });
        assert.equal(read.body.content, "First draft.");
        // Served from the doc: cache, keyed by the content's checksum.
        const sha = (
          await db().selectFrom("documents").select("content_sha256").where("id", "=", doc.id).executeTakeFirst()
        ).content_sha256;
        assert.equal(await platform.kv.get(`doc:${doc.id}:${sha}`), JSON.stringify("First draft."));
        const row = await db()
          .selectFrom("documents")
          .select(["content_key", "user_id"])
          .where("id", "=", doc.id)
          .executeTakeFirst();
        assert.equal(row.content_key, `documents/${me.id}/${doc.id}`);
        const object = await db()
          .selectFrom("document_objects")
          .select(["kind", "blob_key", "stored_size"])
          .where("document_id", "=", doc.id)
          .executeTakeFirst();
        assert.equal(object.kind, "keyframe");
        assert.match(object.blob_key, new RegExp(`^versions/${me.id}/${doc.id}/[0-9a-f-]{36}$`));
        assert.ok(await platform.blobs.head(object.blob_key));
        assert.ok(await platform.blobs.head(row.content_key));
        assert.deepEqual(doc.history, { versions: 1, storedBytes: object.stored_size });
        assert.deepEqual(read.body.history, doc.history);
      });

      it("reads a document in one owner-checked statement, touching it at most once a minute", async () => {
        const me = await user();
        const other = await user();
        const doc = await newDoc(me.token, { content: "one statement" });
        const lastAccessed = async () =>
          (await db().selectFrom("documents").select("last_accessed_at").where("id", "=", doc.id).executeTakeFirst())
            .last_accessed_at as Date;
        const age = async (interval: string) =>
          sql`update documents set last_accessed_at = now() - ${interval}::interval where id = ${doc.id}`.execute(db());

        await age("2 minutes");
        const stale = await lastAccessed();
        const theirs = await call("GET", `/v1/documents/${doc.id}`, { token: other.token });
        assert.equal(theirs.status, 404);
        assert.equal(theirs.body.error.code, "document_not_found");
        assert.equal((await lastAccessed()).getTime(), stale.getTime(), "another owner's read touches nothing");

        const first = await call("GET", `/v1/documents/${doc.id}`, { token: me.token });
        assert.equal(first.status, 200);
        assert.equal(first.body.content, "one statement");
        const touched = await lastAccessed();
        assert.ok(touched.getTime() > stale.getTime() + 60_000, "a read after a minute records the access");

        await age("30 seconds");
        const recent = await lastAccessed();
        assert.equal((await call("GET", `/v1/documents/${doc.id}`, { token: me.token })).status, 200);
        assert.equal((await lastAccessed()).getTime(), recent.getTime(), "within a minute it is not written again");

        // Warm now: the read is one key-value command (the session check and
        // the rate-limit decision together, and on the server profile the
        // document's generation) and no database statement: the row comes from
        // the row cache the read above filled (the embedded profile's, or the
        // server profile's, checked against the generation).
        const counted = async (metric: string, labels: Record<string, string> = {}) => {
          const { values } = await (platform.metrics.registry.getSingleMetric(metric) as any).get();
          return values
            .filter((v: any) => !v.metricName || v.metricName === metric || v.metricName.endsWith("_count"))
            .filter((v: any) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
            .reduce((sum: number, v: any) => sum + v.value, 0);
        };
        const statements = await counted("strata_db_queries_total");
        const kvCalls = await counted("strata_dependency_call_duration_seconds", { dependency: "kv" });
        assert.equal((await call("GET", `/v1/documents/${doc.id}`, { token: me.token })).status, 200);
        assert.equal((await counted("strata_db_queries_total")) - statements, 0, "database round trips");
        assert.equal(
          (await counted("strata_dependency_call_duration_seconds", { dependency: "kv" })) - kvCalls,
          1,
          "one key-value round trip",
        );
        // Deleted through the API, as a write the caches are told of (a
        // statement written by hand is seen at once embedded, within the row
        // cache's lifetime on the server profile: document-generations.ts).
        assert.equal((await call("DELETE", `/v1/documents/${doc.id}`, { token: me.token })).status, 204);
        assert.equal(
          (await call("GET", `/v1/documents/${doc.id}`, { token: me.token })).status,
          404,
          "deleted is gone",
        );
      });

      it("lets an anonymous session own documents", async () => {
        const anon = await call("POST", "/v1/auth/anonymous");
        const doc = await newDoc(anon.body.accessToken);
        assert.equal(doc.owner.kind, "anonymous");
        const row = await db()
          .selectFrom("documents")
          .select(["user_id", "anonymous_session_id"])
          .where("id", "=", doc.id)
          .executeTakeFirst();
        assert.equal(row.user_id, null);
        assert.ok(row.anonymous_session_id);
      });

      it("refuses empty or oversized content, bad tags and unknown fields, changing nothing", async () => {
        const me = await user();
        const cases: [Record<string, unknown>, string, string][] = [
          [{ title: "x", content: "   " }, "body.content", "empty"],
          [{ title: "x", content: "y".repeat(2 * 1024 * 1024 + 1) }, "body.content", "too_long"],
          [{ title: "x", content: "é".repeat(1024 * 1024 + 1) }, "body.content", "too_large"],
          [{ title: "x", content: "y", tags: [1, 2] }, "body.tags.0", "type"],
          [{ title: "", content: "y" }, "body.title", "too_short"],
          [{ title: "x", content: "y", ownerId: randomUUID() }, "body.ownerId", "unknown_field"],
        ];
        for (const [body, field, code] of cases) {
          const res = await call("POST", "/v1/documents", { token: me.token, body });
          assert.equal(res.status, 400, field);
          assert.equal(res.body.error.details.fields[0].field, field);
          assert.equal(res.body.error.details.fields[0].code, code);
        }
        const list = await call("GET", "/v1/documents", { token: me.token });
        assert.equal(list.body.items.length, 0);
      });

      it("updates metadata, archives and unarchives", async () => {
        const me = await user();
        const doc = await newDoc(me.token);
        const patched = await call("PATCH", `/v1/documents/${doc.id}`, {
          token: me.token,
          body: { title: "Renamed", tags: ["a"], isArchived: true },
        });
        assert.equal(patched.body.title, "Renamed");
        assert.equal(patched.body.isArchived, true);
        assert.ok(patched.body.archivedAt);
        assert.equal(
          (await call("GET", "/v1/documents", { token: me.token })).body.items.length,
          0,
          "archived are hidden by default",
        );
        assert.equal((await call("GET", "/v1/documents?archived=true", { token: me.token })).body.items.length, 1);
        const back = await call("PATCH", `/v1/documents/${doc.id}`, { token: me.token, body: { isArchived: false } });
        assert.equal(back.body.archivedAt, null);
      });
    });

    describe("versions", () => {
      it("keeps a linear numbered history with provenance, and gets any version back", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "v1 text" });
        const v2 = await call("POST", `/v1/documents/${doc.id}/versions`, {
          token: me.token,
          body: { content: "v2 text", changeDescription: "second" },
        });
        assert.equal(v2.status, 201);
        assert.equal(v2.body.number, 2);
        const v3 = await call("POST", `/v1/documents/${doc.id}/versions`, {
          token: me.token,
          body: { content: "v3 autosave", kind: "minor" },
        });
        assert.equal(v3.body.number, 3);
        const list = await call("GET", `/v1/documents/${doc.id}/versions`, { token: me.token });
        assert.deepEqual(
          list.body.items.map((v: { number: number }) => v.number),
          [3, 2, 1],
        );
        const [third, second] = list.body.items;
        assert.equal(third.kind, "minor");
        assert.ok(third.expiresAt, "autosaves expire");
        assert.equal(second.changeDescription, "second");
        assert.equal(second.author.userId, me.id);
        assert.equal(third.previousVersionId, second.id);
        assert.equal(
          (await call("GET", `/v1/documents/${doc.id}/versions/1`, { token: me.token })).body.content,
          "v1 text",
        );
        assert.equal((await call("GET", `/v1/documents/${doc.id}`, { token: me.token })).body.content, "v3 autosave");
        const unknown = await call("GET", `/v1/documents/${doc.id}/versions/99`, { token: me.token });
        assert.equal(unknown.status, 404);
        assert.equal(unknown.body.error.code, "version_not_found");
        const page = await call("GET", `/v1/documents/${doc.id}/versions?limit=2`, { token: me.token });
        const rest = await call("GET", `/v1/documents/${doc.id}/versions?limit=2&cursor=${page.body.nextCursor}`, {
          token: me.token,
        });
        assert.deepEqual(
          rest.body.items.map((v: { number: number }) => v.number),
          [1],
        );
      });

      it("never loses or duplicates a version number under concurrent saves", async () => {
        const me = await user();
        const doc = await newDoc(me.token);
        const saves = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            call("POST", `/v1/documents/${doc.id}/versions`, { token: me.token, body: { content: `edit ${i}` } }),
          ),
        );
        assert.ok(saves.every((s) => s.status === 201));
        assert.deepEqual(
          saves.map((s) => s.body.number).sort((a: number, b: number) => a - b),
          Array.from({ length: 20 }, (_, i) => i + 2),
        );
        const current = await call("GET", `/v1/documents/${doc.id}`, { token: me.token });
        assert.equal(current.body.currentVersion.number, 21);
        const last = saves.find((s) => s.body.number === 21);
        const lastVersion = await call("GET", `/v1/documents/${doc.id}/versions/21`, { token: me.token });
        assert.equal(current.body.content, lastVersion.body.content, "the current content is the newest version's");
        assert.ok(last);
      });

      it("stores small edits as deltas in a chain, and restores every version exactly", async () => {
        const me = await user();
        const paragraph = "The quick brown fox jumps over the lazy dog. ".repeat(100);
        const doc = await newDoc(me.token, { content: paragraph });
        const contents = [paragraph];
        let text = paragraph;
        for (let i = 0; i < 12; i++) {
          text = `${text.slice(0, 200 * i)}[edit ${i}]${text.slice(200 * i)}`;
          contents.push(text);
          await call("POST", `/v1/documents/${doc.id}/versions`, { token: me.token, body: { content: text } });
        }
        const versions = (await call("GET", `/v1/documents/${doc.id}/versions?limit=100`, { token: me.token })).body
          .items;
        const deltas = versions.filter((v: { storage: string }) => v.storage === "delta");
        assert.ok(deltas.length >= 11, `most versions are deltas (${deltas.length})`);
        const stored = versions.reduce((n: number, v: { storedSize: number }) => n + v.storedSize, 0);
        const full = versions.reduce((n: number, v: { contentSize: number }) => n + v.contentSize, 0);
        assert.ok(stored < full / 4, `stored ${stored} bytes for ${full} bytes of versions`);
        for (let n = 1; n <= contents.length; n++) {
          const got = await call("GET", `/v1/documents/${doc.id}/versions/${n}`, { token: me.token });
          assert.equal(got.body.content, contents[n - 1], `version ${n}`);
        }
      });

      it("diffs two versions into changes a client can render", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "The cat sat on the mat." });
        await call("POST", `/v1/documents/${doc.id}/versions`, {
          token: me.token,
          body: { content: "The cat sat on the red mat." },
        });
        const diff = await call("GET", `/v1/documents/${doc.id}/diff?from=1&to=2`, { token: me.token });
        assert.equal(diff.status, 200);
        assert.deepEqual(diff.body.changes, [
          { op: "equal", text: "The cat sat on the " },
          { op: "insert", text: "red " },
          { op: "equal", text: "mat." },
        ]);
        assert.equal(diff.body.stats.insertedChars, 4);
        const other = await newDoc(me.token, { content: "elsewhere" });
        await call("POST", `/v1/documents/${other.id}/versions`, { token: me.token, body: { content: "elsewhere 2" } });
        const across = await call("GET", `/v1/documents/${doc.id}/diff?from=1&to=3`, { token: me.token });
        assert.equal(across.status, 404, "a version number of another document means nothing here");
        const bad = await call("GET", `/v1/documents/${doc.id}/diff?from=0&to=x`, { token: me.token });
        assert.equal(bad.status, 400);
      });

      it("restores an old version as a new one", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "original" });
        await call("POST", `/v1/documents/${doc.id}/versions`, { token: me.token, body: { content: "changed" } });
        const restored = await call("POST", `/v1/documents/${doc.id}/versions/1/restore`, { token: me.token });
        assert.equal(restored.status, 201);
        assert.equal(restored.body.number, 3);
        const now = await call("GET", `/v1/documents/${doc.id}`, { token: me.token });
        assert.equal(now.body.content, "original");
        const v3 = await call("GET", `/v1/documents/${doc.id}/versions/3`, { token: me.token });
        assert.equal(v3.body.changeDescription, "Restored version 1");
      });
    });

    describe("version storage", () => {
      async function save(token: string, id: string, content: string, kind = "major") {
        const res = await call("POST", `/v1/documents/${id}/versions`, { token, body: { content, kind } });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body;
      }
      async function version(token: string, id: string, n: number) {
        const res = await call("GET", `/v1/documents/${id}/versions/${n}`, { token });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body;
      }
      async function history(token: string, id: string) {
        return (await call("GET", `/v1/documents/${id}`, { token })).body.history;
      }
      const objectsOf = (id: string) =>
        db()
          .selectFrom("document_objects")
          .select(["sha256", "kind", "depth", "base_sha256", "blob_key", "stored_size"])
          .where("document_id", "=", id)
          .execute();

      it("rebuilds the current content's blob when it is lost or corrupt, answering the right text meanwhile", async () => {
        const me = await user();
        const contentKey = async (id: string) =>
          (await db().selectFrom("documents").select("content_key").where("id", "=", id).executeTakeFirst())
            .content_key as string;
        const damage = {
          lost: async (key: string) => platform.blobs.delete(key),
          corrupt: async (key: string) => {
            await platform.blobs.put(key, "other bytes entirely", { contentType: "text/plain" });
          },
        };
        const readers = {
          // GET /v1/documents/:id. Over the doc: cache's 256 KiB, and read for
          // the first time (a warm read sends the body made before): the read
          // goes to the blob store.
          get: {
            text: (tag: string) =>
              Array.from({ length: 7000 }, (_, i) => `Line ${i} (${tag}): the current content survives.`).join("\n"),
            read: async (id: string) => {
              const res = await call("GET", `/v1/documents/${id}`, { token: me.token });
              assert.equal(res.status, 200);
              return res.body.content as string;
            },
          },
          // A download link serves the blob itself, once the route has checked (and repaired) it.
          download: {
            text: (tag: string) => `A short text (${tag}), read back through its download link.`,
            read: async (id: string) => {
              const link = await call("GET", `/v1/documents/${id}/download-url`, { token: me.token });
              assert.equal(link.status, 200);
              const fetched = await harness.fetchSigned(link.body.url, app);
              assert.equal(fetched.status, 200);
              return fetched.text;
            },
          },
        };
        for (const [how, reader] of Object.entries(readers)) {
          for (const [what, harm] of Object.entries(damage)) {
            const text = reader.text(`${how}, ${what}`);
            const doc = await newDoc(me.token, { content: text });
            await awaitSearchIndexing(platform); // its after-commit indexing reads the content too
            const key = await contentKey(doc.id);
            await harm(key);
            assert.equal(await reader.read(doc.id), text, `${how}, ${what}: the right text`);
            assert.equal(
              (await readBytes(platform.blobs, key)).toString("utf8"),
              text,
              `${how}, ${what}: the blob was written again`,
            );
          }
        }
      });

      it("stores identical content once: a re-save or a restore adds a version and no bytes", async () => {
        const me = await user();
        const a = "Identical paragraphs are stored once. ".repeat(80);
        const b = `${a}And one more sentence.`;
        const doc = await newDoc(me.token, { content: a });
        await save(me.token, doc.id, b);
        const before = await history(me.token, doc.id);
        assert.equal(before.versions, 2);
        const objects = await objectsOf(doc.id);
        assert.equal(
          before.storedBytes,
          objects.reduce((n: number, o: { stored_size: number }) => n + o.stored_size, 0),
        );

        const resaved = await save(me.token, doc.id, b);
        assert.equal(resaved.number, 3);
        const restored = await call("POST", `/v1/documents/${doc.id}/versions/1/restore`, { token: me.token });
        assert.equal(restored.status, 201);
        const after = await history(me.token, doc.id);
        assert.deepEqual(after, { versions: 4, storedBytes: before.storedBytes }, "no new bytes");
        assert.equal((await objectsOf(doc.id)).length, 2, "one object per distinct content");
        const v4 = await version(me.token, doc.id, 4);
        assert.equal(v4.content, a);
        assert.equal(v4.storedSize, 0);
        assert.equal(v4.storage, "keyframe", "the restored version shares version 1's keyframe");
        assert.equal((await version(me.token, doc.id, 3)).storedSize, 0);
        assert.equal((await call("GET", `/v1/documents/${doc.id}`, { token: me.token })).body.content, a);
        // Saves racing with the same new content still store it once.
        const c = `${a} Raced.`;
        const raced = await Promise.all([1, 2, 3].map(() => save(me.token, doc.id, c)));
        assert.deepEqual(raced.map((r) => r.number).sort(), [5, 6, 7]);
        assert.equal((await objectsOf(doc.id)).length, 3);
        for (const n of [5, 6, 7]) assert.equal((await version(me.token, doc.id, n)).content, c);
      });

      it("bounds delta chains with runs, anchors and keyframes, and reads any version across them, in any script", async () => {
        const me = await user();
        const lines = ["Chains of deltas. ", "東京は日本の首都です。", "Emoji 😀🎉👩‍💻 and accents: crème brûlée. "];
        // Text sharing nothing with the document (numbers, not its lines).
        const fresh = (i: number) =>
          Array.from({ length: 900 }, (_, k) => ((k * 7919 + i * 104_729) % 1_000_003).toString(36)).join(" ");
        let text = lines.join("\n").repeat(40);
        const doc = await newDoc(me.token, { content: text });
        const contents = [text];
        for (let i = 1; i <= 110; i++) {
          if (i === 100) {
            text = fresh(i); // nothing in common with before: a delta would not pay
          } else {
            const chars = Array.from(text);
            chars.splice((i * 37) % chars.length, 3, ...Array.from(`[${i}·${lines[i % 3]?.slice(0, 4)}]`));
            text = chars.join("");
          }
          contents.push(text);
          await save(me.token, doc.id, text);
        }
        const objects = await db()
          .selectFrom("document_objects")
          .select(["kind", "depth", "run", "blob_key"])
          .where("document_id", "=", doc.id)
          .execute();
        const keyframes = objects.filter((o: { kind: string }) => o.kind === "keyframe");
        const anchors = objects.filter((o: { kind: string; run: number }) => o.kind === "delta" && o.run === 0);
        assert.equal(keyframes.length, 2, "the first version and the rewrite");
        assert.ok(anchors.length >= 2, `${anchors.length} anchors`);
        assert.ok(Math.max(...objects.map((o: { run: number }) => o.run)) <= RUN_LENGTH, "runs are bounded");
        const bound = MAX_ANCHOR_DEPTH + RUN_LENGTH;
        assert.ok(
          Math.max(...objects.map((o: { depth: number }) => o.depth)) <= bound,
          `no chain is deeper than ${bound}`,
        );
        for (const o of objects) {
          if (o.kind === "keyframe") assert.ok(o.blob_key, "keyframes live in the blob store");
          else assert.equal(o.blob_key, null, "small deltas live in the row");
        }
        for (let n = 1; n <= contents.length; n++) {
          assert.equal((await version(me.token, doc.id, n)).content, contents[n - 1], `version ${n}`);
        }
        const h = await history(me.token, doc.id);
        const full = contents.reduce((sum, c) => sum + Buffer.byteLength(c), 0);
        assert.equal(h.versions, 111);
        assert.ok(h.storedBytes < full / 20, `history of ${h.storedBytes} bytes for ${full} bytes of versions`);
      });

      it("reads a chain only down to the nearest version already read, and restores large versions by reference", async () => {
        const me = await user();
        let text = "A paragraph of a long document, with enough words to pass the inline limit. ".repeat(140);
        const doc = await newDoc(me.token, { content: text });
        const contents = [text];
        for (let i = 1; i <= 5; i++) {
          text = text.replace("long document", `long document (edit ${i})`);
          contents.push(text);
          await save(me.token, doc.id, text);
        }
        assert.equal((await version(me.token, doc.id, 3)).content, contents[2]);
        // Without the keyframe, only a read that stops at version 3 can still succeed.
        const keyframe = (await objectsOf(doc.id)).find((o: { kind: string }) => o.kind === "keyframe");
        const kept = await readBytes(platform.blobs, keyframe.blob_key);
        await platform.blobs.delete(keyframe.blob_key);
        try {
          assert.equal((await version(me.token, doc.id, 5)).content, contents[4], "read from version 3 up");
          const v5 = (await objectsOf(doc.id)).find((o: { depth: number }) => o.depth === 4);
          await assert.rejects(
            readObjectContent(platform.database.db, platform, doc.id, v5.sha256, { fresh: true }),
            "a fresh read goes down to the keyframe",
          );
        } finally {
          await platform.blobs.put(keyframe.blob_key, kept);
        }
        const before = await history(me.token, doc.id);
        const restored = await call("POST", `/v1/documents/${doc.id}/versions/2/restore`, { token: me.token });
        assert.equal(restored.status, 201, JSON.stringify(restored.body));
        assert.deepEqual(await history(me.token, doc.id), { versions: 7, storedBytes: before.storedBytes });
        const current = await call("GET", `/v1/documents/${doc.id}`, { token: me.token });
        assert.equal(current.body.content, contents[1], "the current content follows the restored object");
        assert.equal((await version(me.token, doc.id, 7)).content, contents[1]);
      });

      it("starts a new anchor from the previous anchor's content kept since its save, reading no chain", async () => {
        const me = await user();
        let text = "Anchors are deltas against the run's first object. ".repeat(120);
        const doc = await newDoc(me.token, { content: text });
        const contents = [text];
        const edit = (i: number) => {
          text = `${text.slice(0, 200)}[edit ${i}]${text.slice(200)}`;
          contents.push(text);
          return save(me.token, doc.id, text);
        };
        for (let i = 1; i <= RUN_LENGTH; i++) await edit(i);
        // The keyframe's blob gone: only its content kept in memory lets the anchor be made.
        const keyframe = (await objectsOf(doc.id)).find((o: { kind: string }) => o.kind === "keyframe");
        const kept = await readBytes(platform.blobs, keyframe.blob_key);
        await platform.blobs.delete(keyframe.blob_key);
        try {
          await edit(RUN_LENGTH + 1);
        } finally {
          await platform.blobs.put(keyframe.blob_key, kept);
        }
        const anchors = await db()
          .selectFrom("document_objects")
          .select(["depth", "run", "base_sha256"])
          .where("document_id", "=", doc.id)
          .where("run", "=", 0)
          .where("kind", "=", "delta")
          .execute();
        assert.deepEqual(
          anchors.map((a: { depth: number; base_sha256: string }) => [a.depth, a.base_sha256]),
          [[1, keyframe.sha256]],
          "the save after a full run is an anchor on the keyframe",
        );
        for (let n = 1; n <= contents.length; n++) {
          assert.equal((await version(me.token, doc.id, n)).content, contents[n - 1], `version ${n}`);
        }
      });

      it("makes each delta against the closest of the run's recent versions, within the chain bound", async () => {
        const me = await user();
        const intro = "An introduction that stays. ".repeat(40);
        const section = Array.from({ length: 80 }, (_, i) => `Section line ${i} with its own words ${i * 7919}.`).join(
          "\n",
        );
        const outro = "A conclusion that stays too. ".repeat(40);
        const doc = await newDoc(me.token, { content: `${intro}${section}${outro}` });
        // The section deleted, then back with one word changed: the first version is the closer base.
        await save(me.token, doc.id, `${intro}${outro}`);
        await save(me.token, doc.id, `${intro}${section.replace("line 40", "row 40")}${outro}`);
        const objects = await objectsOf(doc.id);
        const first = objects.find((o: { depth: number }) => o.depth === 0);
        const third = objects.find(
          (o: { sha256: string }) =>
            o.sha256 === sha256Hex(Buffer.from(`${intro}${section.replace("line 40", "row 40")}${outro}`)),
        );
        assert.equal(third.base_sha256, first.sha256, "the third version is a delta against the first");
        assert.equal(third.depth, 1);
        assert.ok(third.stored_size < 200, `a ${third.stored_size}-byte delta`);

        // Two branches edited in turn, as a history with merges replays: every
        // delta finds its own branch's last version; the chains stay bounded.
        const branch = [`${intro}${outro}`, `${intro}${section}${outro}`];
        const contents: string[] = [];
        for (let i = 0; i < 2 * RUN_LENGTH + 10; i++) {
          const b = i % 2;
          branch[b] =
            `${(branch[b] as string).slice(0, 100 + i * 13)}<${i}>${(branch[b] as string).slice(100 + i * 13)}`;
          contents.push(branch[b] as string);
          await save(me.token, doc.id, branch[b] as string);
        }
        const all = await db()
          .selectFrom("document_objects")
          .select(["depth", "run", "stored_size"])
          .where("document_id", "=", doc.id)
          .execute();
        assert.ok(Math.max(...all.map((o: { run: number }) => o.run)) <= RUN_LENGTH);
        assert.ok(Math.max(...all.map((o: { depth: number }) => o.depth)) <= MAX_ANCHOR_DEPTH + RUN_LENGTH);
        const deltas = all.filter((o: { run: number }) => o.run > 0);
        const average = deltas.reduce((n: number, o: { stored_size: number }) => n + o.stored_size, 0) / deltas.length;
        assert.ok(average < 120, `deltas of ${average.toFixed(0)} bytes on average: each against its own branch`);
        for (const [i, content] of contents.entries()) {
          assert.equal((await version(me.token, doc.id, i + 4)).content, content, `version ${i + 4}`);
        }
      });

      it("prunes versions without deleting objects that live versions or deltas still need", async () => {
        const me = await user();
        const a = "Base content that stays. ".repeat(60);
        const b = `${a}An autosave in between.`;
        const c = `${b} Then a major save on top of the autosave.`;
        const d = "A completely different autosave, stored as its own keyframe. ".repeat(40);
        const doc = await newDoc(me.token, { content: a }); // 1: A, keyframe
        await save(me.token, doc.id, b, "minor"); // 2: B, delta on A
        await save(me.token, doc.id, c); // 3: C, delta on B
        await save(me.token, doc.id, a, "minor"); // 4: A again, shared with version 1
        await save(me.token, doc.id, d, "minor"); // 5: D, keyframe
        await save(me.token, doc.id, c); // 6: C again, current
        const before = await objectsOf(doc.id);
        assert.equal(before.length, 4);
        const dKey = (await objectsOf(doc.id)).filter((o: { kind: string }) => o.kind === "keyframe");
        assert.equal(dKey.length, 2);
        await sql`update document_versions set expires_at = now() - interval '1 minute'
          where document_id = ${doc.id} and kind = 'minor'`.execute(db());
        const report = await runWritingMaintenance(platform);
        assert.ok(report.prunedVersions >= 3);
        const left = await call("GET", `/v1/documents/${doc.id}/versions`, { token: me.token });
        assert.deepEqual(
          left.body.items.map((v: { number: number }) => v.number),
          [6, 3, 1],
        );
        const after = await objectsOf(doc.id);
        assert.equal(after.length, 3, "D went; A, and B (the base of C), stay");
        assert.equal(await history(me.token, doc.id).then((h) => h.versions), 3);
        const stored = after.reduce((n: number, o: { stored_size: number }) => n + o.stored_size, 0);
        assert.equal((await history(me.token, doc.id)).storedBytes, stored);
        for (const [n, content] of [
          [1, a],
          [3, c],
          [6, c],
        ] as const) {
          assert.equal((await version(me.token, doc.id, n)).content, content);
        }
        const gone = dKey
          .map((o: { blob_key: string }) => o.blob_key)
          .filter((k: string) => !after.some((o: { blob_key: string | null }) => o.blob_key === k));
        assert.equal(gone.length, 1);
        await runWritingMaintenance(platform);
        assert.equal(await platform.blobs.head(gone[0]), null, "the reclaimed keyframe's blob is deleted");
        for (const o of after) if (o.blob_key) assert.ok(await platform.blobs.head(o.blob_key));
        // A save after pruning still deltas against what is current.
        await save(me.token, doc.id, `${c} More.`);
        assert.equal((await version(me.token, doc.id, 7)).storage, "delta");
      });

      it("keeps every live version readable while saves race with pruning and reclaiming", async () => {
        const me = await user();
        const base = "Racing saves and pruning. ".repeat(80);
        const doc = await newDoc(me.token, { content: base });
        const expected = new Map<number, string>([[1, base]]);
        for (let round = 0; round < 4; round++) {
          const saves = Array.from({ length: 6 }, (_, i) => {
            // Contents repeat across rounds, so saves reuse objects that pruning may reclaim.
            const content = `${base}edit ${(round + i) % 5}`;
            return call("POST", `/v1/documents/${doc.id}/versions`, {
              token: me.token,
              body: { content, kind: i % 2 === 0 ? "minor" : "major" },
            }).then((res) => {
              assert.equal(res.status, 201, JSON.stringify(res.body));
              expected.set(res.body.number, content);
            });
          });
          const pruning = (async () => {
            for (let k = 0; k < 3; k++) {
              await sql`update document_versions set expires_at = now() - interval '1 minute'
                where document_id = ${doc.id} and kind = 'minor'`.execute(db());
              await runWritingMaintenance(platform);
            }
          })();
          await Promise.all([...saves, pruning]);
        }
        const live = (await call("GET", `/v1/documents/${doc.id}/versions?limit=100`, { token: me.token })).body.items;
        assert.ok(live.length >= 13, `${live.length} live versions`);
        for (const v of live) {
          assert.equal(
            (await version(me.token, doc.id, v.number)).content,
            expected.get(v.number),
            `version ${v.number}`,
          );
        }
        const h = await history(me.token, doc.id);
        assert.equal(h.versions, live.length);
      });

      it("migrates histories in the earlier form in place, checking every version, and drops the old blobs", async () => {
        const { rewriteAsLegacyHistory } = await import("../support/legacy-history.ts");
        const { migrateHistoryBatch } = await import("../../src/modules/writing/history-migration.ts");
        const me = await user();
        const docs: { id: string; contents: string[] }[] = [];
        for (const seed of ["Plain English text, edited over time. ", "混合 text with 中文 and émojis 😀 🎉. "]) {
          let text = seed.repeat(50);
          const doc = await newDoc(me.token, { content: text });
          const contents = [text];
          for (let i = 0; i < 7; i++) {
            text = `${text.slice(0, 40 * i)}«${i}»${text.slice(40 * i)}`;
            contents.push(text);
            await save(me.token, doc.id, text, i === 3 ? "minor" : "major");
          }
          await rewriteAsLegacyHistory(db(), platform, doc.id);
          docs.push({ id: doc.id, contents });
        }
        // One more whose old form is damaged: it cannot be checked, so it is left as it is.
        const damaged = await newDoc(me.token, { content: "Damaged history. ".repeat(30) });
        for (let i = 2; i <= 4; i++) await save(me.token, damaged.id, `Damaged history, edit ${i}. `.repeat(30));
        await rewriteAsLegacyHistory(db(), platform, damaged.id);
        const damagedFirst = await db()
          .selectFrom("document_versions")
          .select("blob_key")
          .where("document_id", "=", damaged.id)
          .where("version_number", "=", 1)
          .executeTakeFirst();
        await platform.blobs.put(damagedFirst.blob_key, "not what was saved");
        const failedBefore = (await db().selectFrom("writing_history_migration").selectAll().executeTakeFirst())
          .documents_failed;
        const legacyKeys = (
          await db()
            .selectFrom("document_versions")
            .select("blob_key")
            .where(
              "document_id",
              "in",
              docs.map((d) => d.id),
            )
            .execute()
        ).map((r: { blob_key: string }) => r.blob_key);
        assert.ok(legacyKeys.every((k: string | null) => k !== null));
        assert.equal(
          await db()
            .selectFrom("document_objects")
            .select("sha256")
            .where(
              "document_id",
              "in",
              docs.map((d) => d.id),
            )
            .executeTakeFirst(),
          undefined,
        );
        // Still readable before the migration reaches them, through the legacy reader.
        assert.equal((await version(me.token, docs[0]!.id, 2)).content, docs[0]!.contents[1]);
        assert.equal((await version(me.token, docs[0]!.id, 2)).storage, "delta");

        let batches = 0;
        for (;;) {
          const batch = await migrateHistoryBatch(platform, 1);
          if (batch.finished) break;
          batches++;
        }
        assert.ok(batches >= 2, "one document per batch");
        const progress = await db().selectFrom("writing_history_migration").selectAll().executeTakeFirst();
        assert.ok(progress.finished_at);
        assert.equal(progress.documents_failed, failedBefore + 1, "the damaged document is counted");
        const untouched = await db()
          .selectFrom("document_versions")
          .select("blob_key")
          .where("document_id", "=", damaged.id)
          .execute();
        assert.ok(
          untouched.every((r: { blob_key: string | null }) => r.blob_key !== null),
          "and left in its old form",
        );
        assert.equal(
          (await version(me.token, damaged.id, 4)).content,
          "Damaged history, edit 4. ".repeat(30),
          "what still reads (its own snapshot), reads",
        );
        for (const doc of docs) {
          const list = (await call("GET", `/v1/documents/${doc.id}/versions?limit=100`, { token: me.token })).body
            .items;
          assert.equal(list.length, doc.contents.length);
          for (const v of list)
            assert.ok(["keyframe", "delta"].includes(v.storage), `version ${v.number} is ${v.storage}`);
          for (let n = 1; n <= doc.contents.length; n++) {
            assert.equal((await version(me.token, doc.id, n)).content, doc.contents[n - 1]);
          }
          const h = await history(me.token, doc.id);
          const objects = await objectsOf(doc.id);
          assert.equal(
            h.storedBytes,
            objects.reduce((n: number, o: { stored_size: number }) => n + o.stored_size, 0),
          );
          assert.equal(h.versions, doc.contents.length);
          // New saves continue the chain.
          await save(me.token, doc.id, `${doc.contents.at(-1)} After the migration.`);
          assert.equal((await version(me.token, doc.id, doc.contents.length + 1)).storage, "delta");
        }
        const remaining = await db()
          .selectFrom("document_versions")
          .select("id")
          .where(
            "document_id",
            "in",
            docs.map((d) => d.id),
          )
          .where("blob_key", "is not", null)
          .execute();
        assert.equal(remaining.length, 0, "no version is left in the earlier form");
        await runWritingMaintenance(platform);
        for (const key of legacyKeys) assert.equal(await platform.blobs.head(key), null, `old blob ${key} deleted`);
      });

      it("runs the migration as one job: handed back at a document when its worker stops, finished on the next start", async () => {
        const { rewriteAsLegacyHistory } = await import("../support/legacy-history.ts");
        const { HISTORY_MIGRATION_QUEUE, startHistoryMigration } = await import(
          "../../src/modules/writing/history-migration.ts"
        );
        const { JobService } = await import("../../src/platform/jobs/jobs.ts");
        const me = await user();
        const docs: { id: string; contents: string[] }[] = [];
        for (let d = 0; d < 3; d++) {
          let text = `Document ${d}, written in its earlier form. `.repeat(20);
          const doc = await newDoc(me.token, { content: text });
          const contents = [text];
          for (let i = 0; i < 3; i++) {
            text = `${text} Edit ${i}.`;
            contents.push(text);
            await save(me.token, doc.id, text);
          }
          await rewriteAsLegacyHistory(db(), platform, doc.id);
          docs.push({ id: doc.id, contents });
        }
        const progress = () => db().selectFrom("writing_history_migration").selectAll().executeTakeFirstOrThrow();
        const jobsOfQueue = () =>
          db()
            .selectFrom("jobs")
            .selectAll()
            .where("queue", "=", HISTORY_MIGRATION_QUEUE)
            .orderBy("created_at")
            .orderBy("id")
            .execute();
        const eventually = async (check: () => Promise<boolean>) => {
          const end = Date.now() + 60_000;
          while (!(await check())) {
            if (Date.now() > end) assert.fail("condition not reached in time");
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        const before = await progress();
        const staleJobs = (await jobsOfQueue()).length;

        // One document per batch and a pause no test waits out: stopping ends
        // the pause, and the job goes back to pending with the attempt uncounted.
        const stopFirst = await startHistoryMigration(platform, { batchSize: 1, pauseMs: 10 * 60_000 });
        // The cursor moves past each document walked, converted or (an earlier test's damaged one) not.
        await eventually(async () => (await progress()).cursor_document_id !== null);
        await stopFirst();
        const midway = await progress();
        assert.equal(midway.finished_at, null);
        assert.ok(midway.documents_migrated < before.documents_migrated + docs.length, "stopped mid-way");
        const [job, ...more] = (await jobsOfQueue()).slice(staleJobs);
        assert.equal(more.length, 0, "one job");
        assert.equal(job.status, "pending", "handed back");
        assert.equal(job.attempts, 0);

        // Two processes start: still one job, which one of them finishes.
        const logger = platform.logger;
        const second = new JobService(db(), async () => async () => {}, logger, { graceMs: 5_000 });
        const stops = [
          await startHistoryMigration(platform, { batchSize: 1, pauseMs: 0 }),
          await startHistoryMigration({ ...platform, jobs: second }, { batchSize: 1, pauseMs: 0 }),
        ];
        await eventually(async () => (await progress()).finished_at !== null);
        for (const stop of stops) await stop();
        await second.stop();
        const after = await progress();
        assert.equal(after.documents_migrated, before.documents_migrated + docs.length, "each document once");
        const finished = (await jobsOfQueue()).slice(staleJobs);
        assert.equal(finished.length, 1, "one job across both processes");
        assert.equal(finished[0].id, job.id);
        assert.equal(finished[0].status, "succeeded");
        for (const doc of docs) {
          for (let n = 1; n <= doc.contents.length; n++) {
            assert.equal((await version(me.token, doc.id, n)).content, doc.contents[n - 1]);
          }
        }

        // Finished: a later start enqueues nothing and works nothing.
        const stopLater = await startHistoryMigration(platform, { batchSize: 1, pauseMs: 0 });
        await stopLater();
        assert.equal((await jobsOfQueue()).length, staleJobs + 1);
      });
    });

    describe("AI suggestions", () => {
      async function systemTemplate(token: string, category = "grammar") {
        const list = await call("GET", `/v1/prompt-templates?category=${category}`, { token });
        return list.body.items[0];
      }

      it("lists system templates by category, and an organization's own to its members only", async () => {
        const me = await user();
        const tone = await call("GET", "/v1/prompt-templates?category=tone", { token: me.token });
        assert.equal(tone.body.items.length, 2);
        assert.ok(tone.body.items.every((t: { isSystem: boolean }) => t.isSystem));
        const mine = await call("POST", "/v1/prompt-templates", {
          token: me.token,
          body: { name: "Pirate", promptText: "Rewrite like a pirate.", category: "Fun" },
        });
        assert.equal(mine.status, 201);
        assert.equal(mine.body.category, "fun");
        assert.equal(
          (await call("GET", "/v1/prompt-templates?category=fun", { token: me.token })).body.items.length,
          1,
        );
        const other = await user();
        assert.equal(
          (await call("GET", "/v1/prompt-templates?category=fun", { token: other.token })).body.items.length,
          0,
        );
        const anon = await call("POST", "/v1/auth/anonymous");
        const anonList = await call("GET", "/v1/prompt-templates?limit=100", { token: anon.body.accessToken });
        assert.ok(
          anonList.body.items.length >= 6 && anonList.body.items.every((t: { isSystem: boolean }) => t.isSystem),
        );
      });

      it("asks the provider once, then answers the same request from the AI response cache", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "this is  fine. it works." });
        const template = await systemTemplate(me.token);
        const before = ai.requests.length;
        const first = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { templateId: template.id },
        });
        assert.equal(first.status, 201, JSON.stringify(first.body));
        assert.equal(first.body.content, "This is fine. It works.");
        assert.equal(first.body.cached, false);
        assert.equal(ai.requests.length, before + 1);
        assert.equal(ai.requests.at(-1)?.body.messages[0].content, template.promptText);
        const second = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { templateId: template.id },
        });
        assert.equal(second.body.cached, true);
        assert.equal(second.body.content, first.body.content);
        assert.equal(ai.requests.length, before + 1, "the provider was not asked again");
        // Same text, another tenant: never served from the first one's cache.
        const other = await user();
        const theirs = await newDoc(other.token, { content: "this is  fine. it works." });
        const third = await call("POST", `/v1/documents/${theirs.id}/suggestions`, {
          token: other.token,
          body: { templateId: template.id },
        });
        assert.equal(third.body.cached, false);
        const logged = await db().selectFrom("ai_interactions").selectAll().where("document_id", "=", doc.id).execute();
        assert.equal(logged.length, 2);
        assert.deepEqual(logged.map((r: { cache_hit: boolean }) => r.cache_hit).sort(), [false, true]);
        assert.equal(logged[0].prompt_template_id, template.id);
      });

      it("accepts a suggestion as a new version, rejects another, and refuses deciding twice", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "make it. better now." });
        const suggestion = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { prompt: "Capitalize sentences." },
        });
        assert.equal(suggestion.body.versionNumber, 2);
        const unchanged = await call("GET", `/v1/documents/${doc.id}`, { token: me.token });
        assert.equal(unchanged.body.content, "make it. better now.", "a suggestion does not change the document");
        const accepted = await call("POST", `/v1/suggestions/${suggestion.body.id}/accept`, { token: me.token });
        assert.equal(accepted.status, 200);
        assert.equal(accepted.body.version.number, 3);
        assert.equal(
          (await call("GET", `/v1/documents/${doc.id}`, { token: me.token })).body.content,
          "Make it. Better now.",
        );
        const again = await call("POST", `/v1/suggestions/${suggestion.body.id}/accept`, { token: me.token });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, "suggestion_already_decided");
        const second = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { prompt: "Shorter." },
        });
        const rejected = await call("POST", `/v1/suggestions/${second.body.id}/reject`, { token: me.token });
        assert.equal(rejected.body.status, "rejected");
        await runWritingMaintenance(platform); // prunes the decided suggestions' versions
        const late = await call("POST", `/v1/suggestions/${second.body.id}/accept`, { token: me.token });
        assert.equal(
          late.status,
          409,
          "accepting a rejected suggestion is a conflict, even once its version is pruned",
        );
        const row = await db()
          .selectFrom("ai_interactions")
          .selectAll()
          .where("id", "=", second.body.id)
          .executeTakeFirst();
        assert.equal(row.rejected_suggestions, 1);
        assert.equal(row.status, "rejected");
        const both = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { prompt: "x", templateId: randomUUID() },
        });
        assert.equal(both.status, 400);
      });

      it("streams a suggestion as server-sent events", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "streaming works. one piece at a time, please." });
        const res = await app.inject({
          method: "POST",
          url: `/v1/documents/${doc.id}/suggestions`,
          headers: { authorization: `Bearer ${me.token}`, origin: WRITING_APP_ORIGIN },
          payload: { prompt: "Fix it.", stream: true },
        });
        assert.equal(res.statusCode, 200);
        assert.match(res.headers["content-type"] as string, /^text\/event-stream/);
        // The stream writes its own head: the security and CORS headers must still be on it.
        assert.equal(res.headers["x-content-type-options"], "nosniff");
        assert.match(res.headers["content-security-policy"] as string, /frame-ancestors 'none'/);
        assert.equal(res.headers["access-control-allow-origin"], WRITING_APP_ORIGIN);
        const events = res.body
          .trim()
          .split("\n\n")
          .map((block) => ({
            event: /^event: (.*)$/m.exec(block)?.[1],
            data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null"),
          }));
        const chunks = events.filter((e) => e.event === "chunk");
        assert.ok(chunks.length > 1);
        const final = events.at(-1);
        assert.equal(final?.event, "suggestion");
        assert.equal(chunks.map((c) => c.data.text).join(""), final?.data.content);
        assert.equal(final?.data.content, "Streaming works. One piece at a time, please.");
      });

      it("answers 503 with a clear code when the provider fails, and stores nothing", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "provider down." });
        ai.failNext(2, 500);
        const res = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { prompt: "Fix." },
        });
        assert.equal(res.status, 503);
        assert.equal(res.body.error.code, "ai_provider_unavailable");
        assert.ok(Number(res.headers["retry-after"]) > 0);
        const versions = await call("GET", `/v1/documents/${doc.id}/versions`, { token: me.token });
        assert.equal(versions.body.items.length, 1);
      });

      it("waits out one short 429 from the provider, and answers a long one as 503 ai_provider_busy with its Retry-After", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "provider busy." });
        ai.busyNext(1, { "retry-after-ms": "5" });
        const waited = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { prompt: "Fix." },
        });
        assert.equal(waited.status, 201);
        ai.busyNext(1, { "retry-after": "3600" });
        const busy = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { prompt: "Fix again." },
        });
        assert.equal(busy.status, 503);
        assert.equal(busy.body.error.code, "ai_provider_busy");
        assert.equal(busy.headers["retry-after"], "3600");
      });

      it("is rate-limited by tier", async () => {
        const anon = await call("POST", "/v1/auth/anonymous");
        const doc = await newDoc(anon.body.accessToken, { content: "rate limited text." });
        const statuses: number[] = [];
        for (let i = 0; i < 11; i++) {
          const res = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
            token: anon.body.accessToken,
            body: { prompt: "Fix." },
          });
          statuses.push(res.status);
        }
        assert.deepEqual(statuses, [...Array(10).fill(201), 429]);
      });
    });

    describe("search", () => {
      it("ranks title matches above body matches, with highlighted snippets and filters", async () => {
        const me = await user();
        const inTitle = await newDoc(me.token, {
          title: "Volcano notes",
          content: "Some text about mountains.",
          tags: ["geo"],
        });
        const inBody = await newDoc(me.token, {
          title: "Trip",
          content: "We hiked near a volcano and saw lava flows.",
          tags: ["travel"],
        });
        await newDoc(me.token, { title: "Unrelated", content: "Nothing to see." });
        const other = await user();
        await newDoc(other.token, { title: "Volcano of someone else", content: "volcano volcano" });
        const res = await call("GET", "/v1/documents?q=volcano", { token: me.token });
        assert.deepEqual(
          res.body.items.map((d: { id: string }) => d.id),
          [inTitle.id, inBody.id],
        );
        assert.match(res.body.items[0].highlights.title, /<mark>Volcano<\/mark>/);
        assert.match(res.body.items[1].highlights.snippet, /<mark>volcano<\/mark>/);
        const tagged = await call("GET", "/v1/documents?q=volcano&tags=travel", { token: me.token });
        assert.deepEqual(
          tagged.body.items.map((d: { id: string }) => d.id),
          [inBody.id],
        );
        const paged = await call("GET", "/v1/documents?q=volcano&limit=1", { token: me.token });
        const next = await call("GET", `/v1/documents?q=volcano&limit=1&cursor=${paged.body.nextCursor}`, {
          token: me.token,
        });
        assert.deepEqual(
          [...paged.body.items, ...next.body.items].map((d: { id: string }) => d.id),
          [inTitle.id, inBody.id],
        );
        assert.equal(next.body.nextCursor, null);
        const all = await call("GET", "/v1/documents?limit=2", { token: me.token });
        const more = await call("GET", `/v1/documents?limit=2&cursor=${all.body.nextCursor}`, { token: me.token });
        assert.equal(all.body.items.length + more.body.items.length, 3);
      });
    });

    describe("lifecycle", () => {
      it("deletes softly, restores within 30 days, and not after", async () => {
        const me = await user();
        const doc = await newDoc(me.token);
        assert.equal((await call("DELETE", `/v1/documents/${doc.id}`, { token: me.token })).status, 204);
        assert.equal((await call("GET", `/v1/documents/${doc.id}`, { token: me.token })).status, 404);
        const trash = await call("GET", "/v1/documents?deleted=true", { token: me.token });
        assert.equal(trash.body.items[0].id, doc.id);
        const restored = await call("POST", `/v1/documents/${doc.id}/restore`, { token: me.token });
        assert.equal(restored.body.deletedAt, null);
        assert.equal((await call("GET", `/v1/documents/${doc.id}`, { token: me.token })).status, 200);
        await call("DELETE", `/v1/documents/${doc.id}`, { token: me.token });
        await sql`update documents set deleted_at = now() - interval '31 days' where id = ${doc.id}`.execute(db());
        const late = await call("POST", `/v1/documents/${doc.id}/restore`, { token: me.token });
        assert.equal(late.status, 410);
        assert.equal(late.body.error.code, "restore_window_passed");
        const keys = (
          await db().selectFrom("document_objects").select("blob_key").where("document_id", "=", doc.id).execute()
        ).map((r: { blob_key: string }) => r.blob_key);
        assert.ok(keys.length > 0);
        await runWritingMaintenance(platform);
        assert.equal(
          await db().selectFrom("documents").select("id").where("id", "=", doc.id).executeTakeFirst(),
          undefined,
        );
        for (const key of keys) assert.equal(await platform.blobs.head(key), null, "purged with its blobs");
      });

      it("prunes autosaves after 24 h and decided suggestions, keeping what patches depend on", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "base text for pruning. ".repeat(50) });
        await call("POST", `/v1/documents/${doc.id}/versions`, {
          token: me.token,
          body: { content: "autosave one. ".repeat(50), kind: "minor" },
        });
        await call("POST", `/v1/documents/${doc.id}/versions`, {
          token: me.token,
          body: { content: "explicit save. ".repeat(50) },
        });
        const suggestion = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: me.token,
          body: { prompt: "Fix." },
        });
        await call("POST", `/v1/suggestions/${suggestion.body.id}/reject`, { token: me.token });
        await sql`update document_versions set expires_at = now() - interval '1 minute' where document_id = ${doc.id} and kind = 'minor'`.execute(
          db(),
        );
        const report = await runWritingMaintenance(platform);
        assert.ok(report.prunedVersions >= 2);
        const left = await call("GET", `/v1/documents/${doc.id}/versions`, { token: me.token });
        assert.deepEqual(
          left.body.items.map((v: { number: number }) => v.number),
          [3, 1],
        );
        assert.equal(
          (await call("GET", `/v1/documents/${doc.id}/versions/3`, { token: me.token })).body.content,
          "explicit save. ".repeat(50),
        );
      });

      it("archives documents unopened for 90 days and purges anonymous ones unopened for 7", async () => {
        const me = await user();
        const stale = await newDoc(me.token, { title: "Stale" });
        const fresh = await newDoc(me.token, { title: "Fresh" });
        const anon = await call("POST", "/v1/auth/anonymous");
        const abandoned = await newDoc(anon.body.accessToken, { title: "Abandoned" });
        await sql`update documents set last_accessed_at = now() - interval '91 days' where id = ${stale.id}`.execute(
          db(),
        );
        await sql`update documents set last_accessed_at = now() - interval '8 days' where id = ${abandoned.id}`.execute(
          db(),
        );
        const report = await runWritingMaintenance(platform);
        assert.ok(report.archivedDocuments >= 1);
        const states = await db()
          .selectFrom("documents")
          .select(["id", "is_archived"])
          .where("id", "in", [stale.id, fresh.id, abandoned.id])
          .execute();
        const byId = Object.fromEntries(states.map((r: { id: string; is_archived: boolean }) => [r.id, r.is_archived]));
        assert.deepEqual(byId, { [stale.id]: true, [fresh.id]: false });
        // The purged document's blobs go on the next run's clean-up.
        await runWritingMaintenance(platform);
        const principal = (await platform.identity.authenticate(`Bearer ${anon.body.accessToken}`)) as {
          sessionId: string;
        };
        assert.equal(await platform.blobs.head(`documents/${principal.sessionId}/${abandoned.id}`), null);
        assert.equal(
          await db().selectFrom("documents").select("id").where("id", "=", abandoned.id).executeTakeFirst(),
          undefined,
        );
      });

      it("counts saves and downloads as use: each moves the archive clock forward", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { content: "in use" });
        const lastAccessed = async () =>
          (await db().selectFrom("documents").select("last_accessed_at").where("id", "=", doc.id).executeTakeFirst())
            .last_accessed_at as Date;
        // 60 days unopened: well inside the 90 before archiving, well past a minute's touch.
        const age = () =>
          sql`update documents set last_accessed_at = now() - interval '60 days' where id = ${doc.id}`.execute(db());
        const dayAgo = () => Date.now() - 24 * 3600 * 1000;

        await age();
        const saved = await call("POST", `/v1/documents/${doc.id}/versions`, {
          token: me.token,
          body: { content: "in use, and edited" },
        });
        assert.equal(saved.status, 201);
        assert.ok((await lastAccessed()).getTime() > dayAgo(), "a save is use");

        await age();
        const link = await call("GET", `/v1/documents/${doc.id}/download-url`, { token: me.token });
        assert.equal(link.status, 200);
        assert.ok((await lastAccessed()).getTime() > dayAgo(), "asking for a download is use");
      });

      it("hands out short-lived download links after the ownership check", async () => {
        const me = await user();
        const doc = await newDoc(me.token, { title: "Report", content: "downloadable content" });
        const link = await call("GET", `/v1/documents/${doc.id}/download-url`, { token: me.token });
        assert.equal(link.status, 200);
        const expiresIn = Date.parse(link.body.expiresAt) - Date.now();
        assert.ok(expiresIn > 0 && expiresIn <= 3_600_000);
        const fetched = await harness.fetchSigned(link.body.url, app);
        assert.equal(fetched.status, 200);
        assert.equal(fetched.text, "downloadable content");
        const other = await user();
        assert.equal((await call("GET", `/v1/documents/${doc.id}/download-url`, { token: other.token })).status, 404);
      });
    });

    describe("ownership", () => {
      it("answers 404 to user B on every route with user A's ids", async () => {
        const a = await user();
        const b = await user();
        const doc = await newDoc(a.token, { content: "A's secret" });
        await call("POST", `/v1/documents/${doc.id}/versions`, { token: a.token, body: { content: "A's secret, v2" } });
        const suggestion = await call("POST", `/v1/documents/${doc.id}/suggestions`, {
          token: a.token,
          body: { prompt: "Fix." },
        });
        const d = `/v1/documents/${doc.id}`;
        const attempts: [string, string, unknown?][] = [
          ["GET", d],
          ["PATCH", d, { title: "mine" }],
          ["DELETE", d],
          ["POST", `${d}/restore`],
          ["GET", `${d}/download-url`],
          ["POST", `${d}/versions`, { content: "overwrite" }],
          ["GET", `${d}/versions`],
          ["GET", `${d}/versions/1`],
          ["GET", `${d}/diff?from=1&to=2`],
          ["POST", `${d}/versions/1/restore`],
          ["POST", `${d}/suggestions`, { prompt: "Fix." }],
          ["POST", `/v1/suggestions/${suggestion.body.id}/accept`],
          ["POST", `/v1/suggestions/${suggestion.body.id}/reject`],
        ];
        for (const [method, url, body] of attempts) {
          const res = await call(method as "GET", url, { token: b.token, ...(body ? { body } : {}) });
          assert.equal(res.status, 404, `${method} ${url}`);
        }
        const streamed = await call("POST", `${d}/suggestions`, {
          token: b.token,
          body: { prompt: "Fix.", stream: true },
        });
        assert.equal(streamed.status, 404, "a streamed request is refused before the stream opens");
        const theirs = await call("GET", "/v1/documents?q=secret", { token: b.token });
        assert.equal(theirs.body.items.length, 0);
        const still = await call("GET", d, { token: a.token });
        assert.equal(still.body.content, "A's secret, v2");
        assert.equal(still.body.title, "Draft");
      });
    });

    describe("from anonymous to account", () => {
      async function anonymousWithDocs() {
        const anon = await call("POST", "/v1/auth/anonymous");
        const token = anon.body.accessToken as string;
        const one = await newDoc(token, { title: "Anon one", content: "first anonymous text" });
        await call("POST", `/v1/documents/${one.id}/versions`, {
          token,
          body: { content: "first anonymous text, edited" },
        });
        const two = await newDoc(token, { title: "Anon two", content: "second anonymous text" });
        return { token, ids: [one.id, two.id] as string[] };
      }

      it("copies the blobs to the user's keys and moves the rows on registration; originals wait for the session to expire", async () => {
        const anon = await anonymousWithDocs();
        const objectKeys = () =>
          db()
            .selectFrom("document_objects")
            .select("blob_key")
            .where("document_id", "in", anon.ids)
            .where("blob_key", "is not", null)
            .execute();
        const originals = await objectKeys();
        assert.ok(originals.length >= 2);
        const reg = await call("POST", "/v1/auth/register", {
          token: anon.token,
          body: { email: `t-${randomUUID().slice(0, 8)}@example.com`, password, name: "T" },
        });
        assert.equal(reg.status, 201);
        const userId = reg.body.user.id;
        const list = await call("GET", "/v1/documents", { token: reg.body.accessToken });
        assert.deepEqual(list.body.items.map((d: { id: string }) => d.id).sort(), [...anon.ids].sort());
        const one = await call("GET", `/v1/documents/${anon.ids[0]}`, { token: reg.body.accessToken });
        assert.equal(one.body.content, "first anonymous text, edited");
        assert.equal(
          (await call("GET", `/v1/documents/${anon.ids[0]}/versions/1`, { token: reg.body.accessToken })).body.content,
          "first anonymous text",
        );
        const rows = await objectKeys();
        assert.equal(rows.length, originals.length);
        assert.ok(rows.every((r: { blob_key: string }) => r.blob_key.startsWith(`versions/${userId}/`)));
        for (const o of originals) assert.ok(await platform.blobs.head(o.blob_key), "the original is kept for now");
        const queued = await db()
          .selectFrom("writing_blob_cleanup")
          .select("blob_key")
          .where(
            "blob_key",
            "in",
            originals.map((o: { blob_key: string }) => o.blob_key),
          )
          .execute();
        assert.equal(queued.length, originals.length, "and queued for deletion when the session would expire");
      });

      it("rolls the whole transfer back when a blob copy fails midway", async () => {
        const anon = await anonymousWithDocs();
        const before = await db()
          .selectFrom("documents")
          .select(["id", "anonymous_session_id", "content_key"])
          .where("id", "in", anon.ids)
          .execute();
        const objectKeys = () =>
          db()
            .selectFrom("document_objects")
            .select(["document_id", "sha256", "blob_key"])
            .where("document_id", "in", anon.ids)
            .orderBy("sha256")
            .execute();
        const versionKeys = await objectKeys();
        const originalCopy = platform.blobs.copy.bind(platform.blobs);
        let copies = 0;
        const copiedTo: string[] = [];
        (platform.blobs as { copy: typeof originalCopy }).copy = async (from, to) => {
          if (++copies === 3) throw new Error("simulated storage failure on the third copy");
          copiedTo.push(to);
          return originalCopy(from, to);
        };
        let email: string;
        try {
          email = `r-${randomUUID().slice(0, 8)}@example.com`;
          const reg = await call("POST", "/v1/auth/register", {
            token: anon.token,
            body: { email, password, name: "R" },
          });
          assert.equal(reg.status, 503);
          assert.equal(reg.body.error.code, "ownership_transfer_failed");
        } finally {
          (platform.blobs as { copy: typeof originalCopy }).copy = originalCopy;
        }
        assert.equal(copiedTo.length, 2, "two copies succeeded before the failure");
        for (const key of copiedTo)
          assert.equal(await platform.blobs.head(key), null, "the partial copies were removed");
        const after = await db()
          .selectFrom("documents")
          .select(["id", "anonymous_session_id", "content_key"])
          .where("id", "in", anon.ids)
          .execute();
        assert.deepEqual(after, before, "every row is as it was");
        const afterKeys = await objectKeys();
        assert.deepEqual(afterKeys, versionKeys);
        const stillThere = await call("GET", `/v1/documents/${anon.ids[0]}`, { token: anon.token });
        assert.equal(
          stillThere.body.content,
          "first anonymous text, edited",
          "the anonymous session still reads its documents",
        );
        assert.equal(
          (await call("POST", "/v1/auth/login", { body: { email: email!, password } })).status,
          401,
          "no account was created",
        );
      });
    });
  });
}
