import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { client } from "../../../test/support/http.ts";
import { TEST_PASSWORD } from "../../../test/support/writing-fixtures.ts";
import type { App } from "../../http/app.ts";
import { buildServer } from "../../http/server.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import type { Platform } from "../../runtime/platform.ts";
import { generationModule } from "./index.ts";
import { kvKeys, pipelineStatsMember, WORKER_HEARTBEAT_TTL_MS } from "./kv-keys.ts";

/** The generation module's HTTP API on the embedded profile (PGlite, the in-process store). */

const sections = [
  { id: "introduction", type: "text", name: "Introduction", wordRange: { min: 150, max: 300 } },
  {
    id: "main_content",
    type: "sections",
    name: "Main Content",
    minSections: 2,
    maxSections: 5,
    sectionTemplate: { type: "text", instructions: "Expand", wordRange: { min: 300, max: 600 } },
  },
];

describe("generation routes", () => {
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  let platform: Platform;
  let app: App;
  let call: ReturnType<typeof client>;

  before(async () => {
    opened = await openTestPlatform();
    platform = opened.platform;
    await createMigrator(platform.database, [generationModule]).up();
    app = await buildServer(platform, [generationModule]);
    call = client(app);
  });
  after(async () => {
    await app?.close();
    await opened?.dispose();
  });

  /** Asserts the status (showing the body when it differs) and the error's code; returns the body, or its error. */
  function expect(res: { status: number; body: any }, status: number, code?: string) {
    assert.equal(res.status, status, JSON.stringify(res.body));
    if (status < 400) return res.body;
    if (code) assert.equal(res.body.error.code, code);
    return res.body.error;
  }

  async function account(settings?: Record<string, unknown>) {
    const email = `gen-${randomUUID().slice(0, 8)}@example.com`;
    const body = expect(await call("POST", "/v1/auth/register", { body: { email, password: TEST_PASSWORD } }), 201);
    const token = body.accessToken as string;
    const organizationId = body.organizationId as string;
    if (settings) {
      expect(await call("PATCH", `/v1/organizations/${organizationId}`, { token, body: { settings } }), 200);
    }
    return { token, organizationId, userId: body.user.id as string, email, refreshToken: body.refreshToken as string };
  }

  async function component(token: string, body: Record<string, unknown>) {
    return expect(await call("POST", "/v1/generation/components", { token, body }), 201);
  }

  async function pipeline(token: string) {
    const template = await component(token, { name: "T", type: "template", config: { templateKey: "tmpl_a" } });
    const generator = await component(token, { name: "G", type: "ai_generator", config: { model: "gpt-4" } });
    return expect(
      await call("POST", "/v1/generation/pipelines", {
        token,
        body: {
          name: "Articles",
          defaultContextType: "article",
          components: [{ componentId: template.id }, { componentId: generator.id }],
        },
      }),
      201,
    );
  }

  describe("templates", () => {
    it("creates version 1, adds versions under the key (never editing one), and reads the latest or any", async () => {
      const { token } = await account();
      const first = expect(
        await call("POST", "/v1/generation/templates", {
          token,
          body: { templateKey: "tmpl_article", name: "Article", sections, tags: ["technical"] },
        }),
        201,
      );
      assert.equal(first.version, 1);
      assert.deepEqual(first.sections, sections);
      const taken = expect(
        await call("POST", "/v1/generation/templates", {
          token,
          body: { templateKey: "tmpl_article", name: "Again", sections },
        }),
        409,
        "template_key_taken",
      );
      assert.equal(taken.details.field, "body.templateKey");

      const second = expect(
        await call("POST", "/v1/generation/templates/tmpl_article/versions", {
          token,
          body: { name: "Article, revised", sections: sections.slice(0, 1) },
        }),
        201,
      );
      assert.equal(second.version, 2);
      assert.notEqual(second.id, first.id);
      const latest = expect(await call("GET", "/v1/generation/templates/tmpl_article", { token }), 200);
      assert.equal(latest.id, second.id);
      const v1 = expect(await call("GET", "/v1/generation/templates/tmpl_article/versions/1", { token }), 200);
      assert.deepEqual([v1.id, v1.name, v1.sections], [first.id, "Article", sections], "version 1 as it was");
      expect(
        await call("GET", "/v1/generation/templates/tmpl_article/versions/3", { token }),
        404,
        "template_not_found",
      );
      expect(await call("GET", "/v1/generation/templates/tmpl_none", { token }), 404, "template_not_found");
      const byId = expect(await call("GET", `/v1/generation/template-versions/${first.id}`, { token }), 200);
      assert.deepEqual(byId, v1);

      const bad = expect(
        await call("POST", "/v1/generation/templates/tmpl_article/versions", {
          token,
          body: { name: "Bad", sections: [{ ...sections[0], wordRange: { min: 9, max: 1 } }] },
        }),
        400,
        "validation_failed",
      );
      assert.equal(bad.details.fields[0].field, "body.sections.0.wordRange");
    });

    it("lists the latest version of each template by key, filtered by its tags, a page at a time", async () => {
      const { token } = await account();
      const make = (templateKey: string, tags: string[]) =>
        call("POST", "/v1/generation/templates", { token, body: { templateKey, name: templateKey, sections, tags } });
      expect(await make("c_news", ["news"]), 201);
      expect(await make("a_blog", ["blog", "news"]), 201);
      expect(await make("b_memo", ["memo"]), 201);
      // Version 2 of a_blog drops the tag: only the latest version's tags count.
      expect(
        await call("POST", "/v1/generation/templates/a_blog/versions", {
          token,
          body: { name: "a_blog 2", sections, tags: ["blog"] },
        }),
        201,
      );
      const all = expect(await call("GET", "/v1/generation/templates", { token }), 200);
      assert.deepEqual(
        all.items.map((t: any) => [t.templateKey, t.version]),
        [
          ["a_blog", 2],
          ["b_memo", 1],
          ["c_news", 1],
        ],
      );
      const news = expect(await call("GET", "/v1/generation/templates?tag=news", { token }), 200);
      assert.deepEqual(
        news.items.map((t: any) => t.templateKey),
        ["c_news"],
      );
      const pages: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = expect(
          await call("GET", `/v1/generation/templates?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token }),
          200,
        );
        pages.push(page.items.map((t: any) => t.templateKey).join(","));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(pages, ["a_blog,b_memo", "c_news"]);
      expect(await call("GET", "/v1/generation/templates?cursor=Zm9v_", { token }), 400, "validation_failed");
    });

    it("deactivates and reactivates every version of a template; a version made meanwhile follows", async () => {
      const { token } = await account();
      const first = expect(
        await call("POST", "/v1/generation/templates", {
          token,
          body: { templateKey: "tmpl_x", name: "X", sections },
        }),
        201,
      );
      const off = expect(await call("POST", "/v1/generation/templates/tmpl_x/deactivate", { token }), 200);
      assert.equal(off.isActive, false);
      assert.ok(off.updatedAt > first.updatedAt || off.updatedAt === first.updatedAt);
      const next = expect(
        await call("POST", "/v1/generation/templates/tmpl_x/versions", { token, body: { name: "X2", sections } }),
        201,
      );
      assert.equal(next.isActive, false, "a new version of a deactivated template is inactive too");
      const inactive = expect(await call("GET", "/v1/generation/templates?active=false", { token }), 200);
      assert.deepEqual(
        inactive.items.map((t: any) => [t.templateKey, t.version]),
        [["tmpl_x", 2]],
      );
      const on = expect(await call("POST", "/v1/generation/templates/tmpl_x/reactivate", { token }), 200);
      assert.deepEqual([on.version, on.isActive], [2, true]);
      const v1 = expect(await call("GET", "/v1/generation/templates/tmpl_x/versions/1", { token }), 200);
      assert.equal(v1.isActive, true);
      expect(await call("POST", "/v1/generation/templates/tmpl_none/deactivate", { token }), 404, "template_not_found");
    });

    it("serves a template by id from the cache, and drops the entry when the template is deactivated", async () => {
      const { token } = await account();
      const created = expect(
        await call("POST", "/v1/generation/templates", {
          token,
          body: { templateKey: "tmpl_cached", name: "Cached", sections },
        }),
        201,
      );
      expect(await call("GET", `/v1/generation/template-versions/${created.id}`, { token }), 200);
      const stored = await platform.kv.hgetall(kvKeys.template(created.id));
      assert.equal(stored.name, "Cached");
      assert.equal(stored.version, "1");
      assert.equal(JSON.parse(stored.structure ?? "{}").sections[0].word_range.join(), "150,300", "the seed's form");
      // Changed behind the cache's back: the cached copy still answers.
      await platform.database.db
        .updateTable("generation_templates")
        .set({ name: "Renamed in the database" })
        .where("id", "=", created.id)
        .execute();
      const hit = expect(await call("GET", `/v1/generation/template-versions/${created.id}`, { token }), 200);
      assert.equal(hit.name, "Cached");
      expect(await call("POST", "/v1/generation/templates/tmpl_cached/deactivate", { token }), 200);
      const fresh = expect(await call("GET", `/v1/generation/template-versions/${created.id}`, { token }), 200);
      assert.deepEqual([fresh.name, fresh.isActive], ["Renamed in the database", false]);
    });
  });

  describe("components", () => {
    it("creates, reads, lists by type and activity, and updates a component", async () => {
      const { token } = await account({ allowedModels: ["gpt-4", "gpt-3.5-turbo"] });
      const generator = await component(token, {
        name: "GPT-4",
        type: "ai_generator",
        config: { model: "gpt-4", maxTokens: 2000 },
      });
      const transformer = await component(token, {
        name: "Markdown",
        type: "transformer",
        config: { format: "markdown" },
      });
      assert.deepEqual(
        expect(await call("GET", `/v1/generation/components/${generator.id}`, { token }), 200),
        generator,
      );
      const changed = expect(
        await call("PATCH", `/v1/generation/components/${generator.id}`, {
          token,
          body: { name: "GPT-3.5", description: "cheaper", config: { model: "gpt-3.5-turbo", temperature: 0.2 } },
        }),
        200,
      );
      assert.deepEqual(
        [changed.name, changed.description, changed.config],
        ["GPT-3.5", "cheaper", { model: "gpt-3.5-turbo", temperature: 0.2 }],
      );
      const off = expect(
        await call("PATCH", `/v1/generation/components/${transformer.id}`, {
          token,
          body: { isActive: false, description: null },
        }),
        200,
      );
      assert.deepEqual([off.isActive, off.description], [false, null]);

      const generators = expect(await call("GET", "/v1/generation/components?type=ai_generator", { token }), 200);
      assert.deepEqual(
        generators.items.map((c: any) => c.id),
        [generator.id],
      );
      const active = expect(await call("GET", "/v1/generation/components?active=true", { token }), 200);
      assert.deepEqual(
        active.items.map((c: any) => c.id),
        [generator.id],
      );
      const page = expect(await call("GET", "/v1/generation/components?limit=1", { token }), 200);
      assert.deepEqual(
        page.items.map((c: any) => c.id),
        [transformer.id],
        "newest first",
      );
      const rest = expect(
        await call("GET", `/v1/generation/components?limit=1&cursor=${page.nextCursor}`, { token }),
        200,
      );
      assert.deepEqual([rest.items.map((c: any) => c.id), rest.nextCursor], [[generator.id], null]);
    });

    it("refuses a config of another type and a model the organization does not allow, naming the field", async () => {
      const { token, organizationId } = await account({ allowedModels: ["gpt-4"] });
      const transformer = await component(token, { name: "T", type: "transformer", config: { format: "html" } });
      const wrongType = expect(
        await call("PATCH", `/v1/generation/components/${transformer.id}`, { token, body: { config: { model: "x" } } }),
        400,
        "validation_failed",
      );
      assert.deepEqual(wrongType.details.fields.map((f: any) => [f.field, f.code]).sort(), [
        ["body.config.format", "required"],
        ["body.config.model", "unknown_field"],
      ]);
      const refused = expect(
        await call("POST", "/v1/generation/components", {
          token,
          body: { name: "G", type: "ai_generator", config: { model: "gpt-5" } },
        }),
        403,
        "model_not_allowed",
      );
      assert.equal(refused.details.field, "body.config.model");
      const generator = await component(token, { name: "G", type: "ai_generator", config: { model: "gpt-4" } });
      expect(
        await call("PATCH", `/v1/generation/components/${generator.id}`, {
          token,
          body: { config: { model: "gpt-5" } },
        }),
        403,
        "model_not_allowed",
      );
      // Once the organization drops the model, renaming still works; reactivating checks it again.
      expect(
        await call("PATCH", `/v1/generation/components/${generator.id}`, { token, body: { isActive: false } }),
        200,
      );
      expect(
        await call("PATCH", `/v1/organizations/${organizationId}`, {
          token,
          body: { settings: { allowedModels: ["gpt-3.5-turbo"] } },
        }),
        200,
      );
      expect(await call("PATCH", `/v1/generation/components/${generator.id}`, { token, body: { name: "G2" } }), 200);
      expect(
        await call("PATCH", `/v1/generation/components/${generator.id}`, { token, body: { isActive: true } }),
        403,
        "model_not_allowed",
      );
    });
  });

  describe("pipelines", () => {
    it("creates, reads, lists and updates a pipeline, replacing its components with the same checks", async () => {
      const { token } = await account();
      const created = await pipeline(token);
      assert.deepEqual(
        created.components.map((c: any) => [c.type, c.order]),
        [
          ["template", 1],
          ["ai_generator", 2],
        ],
      );
      assert.deepEqual(expect(await call("GET", `/v1/generation/pipelines/${created.id}`, { token }), 200), created);
      const transformer = await component(token, { name: "MD", type: "transformer", config: { format: "markdown" } });
      const updated = expect(
        await call("PATCH", `/v1/generation/pipelines/${created.id}`, {
          token,
          body: {
            name: "Notes",
            description: "short ones",
            defaultContextType: null,
            components: [
              { componentId: transformer.id, name: "Markdown", configOverrides: { addTableOfContents: true } },
              { componentId: created.components[0].componentId },
            ],
          },
        }),
        200,
      );
      assert.deepEqual([updated.name, updated.description, updated.defaultContextType], ["Notes", "short ones", null]);
      assert.deepEqual(
        updated.components.map((c: any) => [c.componentId, c.type, c.order, c.name, c.configOverrides]),
        [
          [transformer.id, "transformer", 1, "Markdown", { addTableOfContents: true }],
          [created.components[0].componentId, "template", 2, null, {}],
        ],
      );
      assert.deepEqual(expect(await call("GET", `/v1/generation/pipelines/${created.id}`, { token }), 200), updated);
      const renamed = expect(
        await call("PATCH", `/v1/generation/pipelines/${created.id}`, { token, body: { isActive: false } }),
        200,
      );
      assert.deepEqual(renamed.components, updated.components, "components stay unless replaced");
      const listed = expect(await call("GET", "/v1/generation/pipelines?active=false", { token }), 200);
      assert.deepEqual(
        listed.items.map((p: any) => [p.id, p.components.length]),
        [[created.id, 2]],
      );
      expect(await call("GET", "/v1/generation/pipelines?active=true", { token }), 200);
    });

    it("refuses a missing, inactive or other organization's component, naming the step, and changes nothing", async () => {
      const { token } = await account();
      const created = await pipeline(token);
      const stranger = await account();
      const theirs = await component(stranger.token, { name: "T", type: "transformer", config: { format: "html" } });
      const inactive = await component(token, { name: "Off", type: "transformer", config: { format: "text" } });
      expect(
        await call("PATCH", `/v1/generation/components/${inactive.id}`, { token, body: { isActive: false } }),
        200,
      );
      const first = created.components[0].componentId;
      for (const [id, status, code] of [
        [theirs.id, 404, "component_not_found"],
        [randomUUID(), 404, "component_not_found"],
        [inactive.id, 409, "component_inactive"],
      ] as const) {
        const refused = expect(
          await call("PATCH", `/v1/generation/pipelines/${created.id}`, {
            token,
            body: { name: "Changed", components: [{ componentId: first }, { componentId: id }] },
          }),
          status,
          code,
        );
        assert.deepEqual(refused.details, { field: "body.components.1.componentId", componentId: id });
      }
      assert.deepEqual(expect(await call("GET", `/v1/generation/pipelines/${created.id}`, { token }), 200), created);
    });
  });

  describe("contexts", () => {
    it("creates, reads and cancels a context; an ended one is 409 with its status", async () => {
      const { token } = await account();
      const { id: pipelineId } = await pipeline(token);
      const context = expect(
        await call("POST", "/v1/generation/contexts", {
          token,
          body: { type: "article", pipelineId, priority: 2, data: { title: "Hello" } },
        }),
        201,
      );
      assert.deepEqual(expect(await call("GET", `/v1/generation/contexts/${context.id}`, { token }), 200), context);
      const cancelled = expect(await call("POST", `/v1/generation/contexts/${context.id}/cancel`, { token }), 200);
      assert.equal(cancelled.status, "cancelled");
      assert.ok(cancelled.processing.completedAt);
      assert.ok(cancelled.updatedAt >= context.updatedAt);
      const again = expect(
        await call("POST", `/v1/generation/contexts/${context.id}/cancel`, { token }),
        409,
        "context_not_cancellable",
      );
      assert.equal(again.details.status, "cancelled");
      const done = expect(
        await call("POST", "/v1/generation/contexts", { token, body: { type: "note", pipelineId } }),
        201,
      );
      await platform.database.db
        .updateTable("generation_contexts")
        .set({ status: "completed" })
        .where("id", "=", done.id)
        .execute();
      expect(
        await call("POST", `/v1/generation/contexts/${done.id}/cancel`, { token }),
        409,
        "context_not_cancellable",
      );
      // A processing one can be cancelled too.
      const running = expect(
        await call("POST", "/v1/generation/contexts", { token, body: { type: "note", pipelineId } }),
        201,
      );
      await platform.database.db
        .updateTable("generation_contexts")
        .set({ status: "processing" })
        .where("id", "=", running.id)
        .execute();
      expect(await call("POST", `/v1/generation/contexts/${running.id}/cancel`, { token }), 200);
      expect(await call("GET", `/v1/generation/contexts/${randomUUID()}`, { token }), 404, "context_not_found");
    });

    it("lists the caller's own contexts in the organization, newest first, 20 to a page by default", async () => {
      const owner = await account();
      const team = expect(await call("POST", "/v1/organizations", { token: owner.token, body: { name: "Team" } }), 201);
      const mate = await account();
      expect(
        await call("POST", `/v1/organizations/${team.id}/members`, {
          token: owner.token,
          body: { email: mate.email, role: "member" },
        }),
        201,
      );
      const inTeam = async (who: { refreshToken: string }) =>
        expect(
          await call("POST", "/v1/auth/refresh", { body: { refreshToken: who.refreshToken, organizationId: team.id } }),
          200,
        ).accessToken as string;
      const ownerInTeam = await inTeam(owner);
      const mateInTeam = await inTeam(mate);
      const { id: pipelineId } = await pipeline(ownerInTeam);
      const made: string[] = [];
      for (let i = 0; i < 22; i++) {
        made.push(
          expect(
            await call("POST", "/v1/generation/contexts", { token: ownerInTeam, body: { type: `t${i}`, pipelineId } }),
            201,
          ).id,
        );
      }
      expect(
        await call("POST", "/v1/generation/contexts", { token: mateInTeam, body: { type: "mate", pipelineId } }),
        201,
      );
      // The owner's contexts in the personal organization are not the team's.
      const login = expect(
        await call("POST", "/v1/auth/login", { body: { email: owner.email, password: TEST_PASSWORD } }),
        200,
      ).accessToken as string;
      const personal = await pipeline(login);
      expect(
        await call("POST", "/v1/generation/contexts", {
          token: login,
          body: { type: "personal", pipelineId: personal.id },
        }),
        201,
      );

      const first = expect(await call("GET", "/v1/generation/contexts", { token: ownerInTeam }), 200);
      assert.equal(first.items.length, 20);
      assert.ok(first.nextCursor);
      const second = expect(
        await call("GET", `/v1/generation/contexts?cursor=${first.nextCursor}`, { token: ownerInTeam }),
        200,
      );
      assert.equal(second.nextCursor, null);
      assert.deepEqual(
        [...first.items, ...second.items].map((c: any) => c.id),
        [...made].reverse(),
        "the caller's, in the team, newest first",
      );
      const mates = expect(await call("GET", "/v1/generation/contexts", { token: mateInTeam }), 200);
      assert.deepEqual(
        mates.items.map((c: any) => c.type),
        ["mate"],
      );
      // Any member of the organization may read a teammate's context by id.
      expect(await call("GET", `/v1/generation/contexts/${made[0]}`, { token: mateInTeam }), 200);
    });
  });

  describe("batches", () => {
    it("summarizes a batch: its contexts counted by status, their tokens and cost added up", async () => {
      const { token } = await account();
      const { id: pipelineId } = await pipeline(token);
      const batch = expect(
        await call("POST", "/v1/generation/batches", {
          token,
          body: { name: "Daily", pipelineId, contexts: [{}, {}, {}, { type: "note" }] },
        }),
        201,
      );
      const [done, failed, cancelled] = batch.contextIds as string[];
      const db = platform.database.db;
      await db
        .updateTable("generation_contexts")
        .set({ status: "completed", input_tokens: 100, output_tokens: 400, cost_usd: "0.012345" })
        .where("id", "=", done as string)
        .execute();
      await db
        .updateTable("generation_contexts")
        .set({ status: "failed", input_tokens: 50, output_tokens: 0, cost_usd: "0.001" })
        .where("id", "=", failed as string)
        .execute();
      expect(await call("POST", `/v1/generation/contexts/${cancelled}/cancel`, { token }), 200);

      const read = expect(await call("GET", `/v1/generation/batches/${batch.id}`, { token }), 200);
      assert.deepEqual(read.contextIds, batch.contextIds);
      assert.deepEqual(read.summary, {
        contexts: { pending: 1, processing: 0, completed: 1, failed: 1, cancelled: 1 },
        inputTokens: 150,
        outputTokens: 400,
        costUsd: 0.013345,
      });
      assert.equal(read.cancelledCount, 1, "the cancellation was counted on the batch");
      assert.equal(read.status, "pending", "the batch goes on while a context is pending");
      expect(await call("GET", `/v1/generation/batches/${randomUUID()}`, { token }), 404, "batch_not_found");
    });
  });

  describe("workers and statistics", () => {
    it("lists live workers from their heartbeats, typed, a page at a time", async () => {
      const { token } = await account();
      const beat = (id: string, fields: Record<string, string>) =>
        platform.kv
          .hset(kvKeys.workerHeartbeat(id), fields)
          .then(() => platform.kv.expire(kvKeys.workerHeartbeat(id), WORKER_HEARTBEAT_TTL_MS));
      const now = new Date().toISOString();
      await beat("w-b", {
        last_seen: now,
        status: "processing",
        processing_count: "3",
        host: "gen-1",
        pid: "4242",
        concurrency: "4",
        started_at: now,
      });
      await beat("w-a", { last_seen: now, status: "idle", processing_count: "0", host: "gen-2" });
      await beat("w-c", { last_seen: now, status: "confused", processing_count: "x", host: "gen-3" });
      const all = expect(await call("GET", "/v1/generation/workers", { token }), 200);
      assert.deepEqual(all, {
        items: [
          {
            workerId: "w-a",
            status: "idle",
            lastSeen: now,
            processingCount: 0,
            host: "gen-2",
            pid: null,
            concurrency: null,
            startedAt: null,
          },
          {
            workerId: "w-b",
            status: "processing",
            lastSeen: now,
            processingCount: 3,
            host: "gen-1",
            pid: 4242,
            concurrency: 4,
            startedAt: now,
          },
        ],
        nextCursor: null,
      });
      const first = expect(await call("GET", "/v1/generation/workers?limit=1", { token }), 200);
      const second = expect(
        await call("GET", `/v1/generation/workers?limit=1&cursor=${first.nextCursor}`, { token }),
        200,
      );
      assert.deepEqual([first.items[0].workerId, second.items[0].workerId, second.nextCursor], ["w-a", "w-b", null]);
      const anonymous = expect(await call("POST", "/v1/auth/anonymous"), 201).accessToken;
      expect(await call("GET", "/v1/generation/workers", { token: anonymous }), 403, "account_required");
    });

    it("gives a pipeline's durations over the last day and its contexts by status", async () => {
      const { token } = await account();
      const { id: pipelineId } = await pipeline(token);
      const now = Date.now();
      const key = kvKeys.pipelineStats(pipelineId);
      await platform.kv.zadd(key, [
        ...[100, 200, 300, 400, 1000].map((ms, i) => ({
          member: pipelineStatsMember(ms, randomUUID()),
          score: now - i,
        })),
        { member: pipelineStatsMember(99_999, randomUUID()), score: now - 2 * 86_400_000 },
      ]);
      for (let i = 0; i < 3; i++) {
        expect(await call("POST", "/v1/generation/contexts", { token, body: { type: "a", pipelineId } }), 201);
      }
      const [first] = (
        await platform.database.db
          .selectFrom("generation_contexts")
          .select("id")
          .where("pipeline_id", "=", pipelineId)
          .execute()
      ).map((c) => c.id);
      expect(await call("POST", `/v1/generation/contexts/${first}/cancel`, { token }), 200);
      const stats = expect(await call("GET", `/v1/generation/pipelines/${pipelineId}/stats`, { token }), 200);
      assert.deepEqual(stats.durations, { count: 5, meanMs: 400, p50Ms: 300, p95Ms: 1000, maxMs: 1000 });
      assert.deepEqual(stats.contexts, { pending: 2, processing: 0, completed: 0, failed: 0, cancelled: 1 });
      assert.equal(await platform.kv.zcard(key), 5, "the entry older than a day was dropped");
      const empty = expect(
        await call("GET", `/v1/generation/pipelines/${(await pipeline(token)).id}/stats`, { token }),
        200,
      );
      assert.deepEqual(empty.durations, { count: 0, meanMs: null, p50Ms: null, p95Ms: null, maxMs: null });
    });
  });

  it("answers 404 for another organization's ids on every route that takes one", async () => {
    const owner = await account();
    const { token } = owner;
    const template = expect(
      await call("POST", "/v1/generation/templates", {
        token,
        body: { templateKey: "tmpl_mine", name: "M", sections },
      }),
      201,
    );
    const created = await pipeline(token);
    const componentId = created.components[0].componentId;
    const context = expect(
      await call("POST", "/v1/generation/contexts", { token, body: { type: "x", pipelineId: created.id } }),
      201,
    );
    const batch = expect(
      await call("POST", "/v1/generation/batches", {
        token,
        body: { name: "B", pipelineId: created.id, contexts: [{}] },
      }),
      201,
    );
    const stranger = await account();
    const sectionsBody = { name: "Theirs", sections };
    const probes: [method: "GET" | "POST" | "PATCH", url: string, code: string, body?: unknown][] = [
      ["GET", "/v1/generation/templates/tmpl_mine", "template_not_found"],
      ["GET", "/v1/generation/templates/tmpl_mine/versions/1", "template_not_found"],
      ["POST", "/v1/generation/templates/tmpl_mine/versions", "template_not_found", sectionsBody],
      ["POST", "/v1/generation/templates/tmpl_mine/deactivate", "template_not_found"],
      ["POST", "/v1/generation/templates/tmpl_mine/reactivate", "template_not_found"],
      ["GET", `/v1/generation/template-versions/${template.id}`, "template_not_found"],
      ["GET", `/v1/generation/components/${componentId}`, "component_not_found"],
      ["PATCH", `/v1/generation/components/${componentId}`, "component_not_found", { name: "Theirs" }],
      ["GET", `/v1/generation/pipelines/${created.id}`, "pipeline_not_found"],
      ["PATCH", `/v1/generation/pipelines/${created.id}`, "pipeline_not_found", { name: "Theirs" }],
      ["GET", `/v1/generation/pipelines/${created.id}/stats`, "pipeline_not_found"],
      ["GET", `/v1/generation/contexts/${context.id}`, "context_not_found"],
      ["POST", `/v1/generation/contexts/${context.id}/cancel`, "context_not_found"],
      ["GET", `/v1/generation/batches/${batch.id}`, "batch_not_found"],
    ];
    for (const [method, url, code, body] of probes) {
      expect(await call(method, url, { token: stranger.token, ...(body ? { body } : {}) }), 404, code);
    }
    // A pipeline or context naming the owner's resources from elsewhere fails the same way.
    expect(
      await call("POST", "/v1/generation/contexts", {
        token: stranger.token,
        body: { type: "x", pipelineId: created.id },
      }),
      404,
      "pipeline_not_found",
    );
    // The stranger's lists hold none of it.
    for (const list of ["templates", "components", "pipelines", "contexts"]) {
      assert.deepEqual(
        expect(await call("GET", `/v1/generation/${list}`, { token: stranger.token }), 200).items,
        [],
        list,
      );
    }
    // And nothing changed for the owner.
    assert.equal(expect(await call("GET", "/v1/generation/templates/tmpl_mine", { token }), 200).isActive, true);
    assert.equal(expect(await call("GET", `/v1/generation/contexts/${context.id}`, { token }), 200).status, "pending");
  });
});
