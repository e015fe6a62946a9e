import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { generationAccount } from "../../../test/support/generation-fixtures.ts";
import { isAppError } from "../../platform/errors/app-error.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import type { Platform } from "../../runtime/platform.ts";
import { createBatch } from "./batches.ts";
import { createComponent } from "./components.ts";
import { createContext } from "./contexts.ts";
import { generationModule } from "./index.ts";
import { createPipeline } from "./pipelines.ts";
import { createTemplate, createTemplateVersion } from "./templates.ts";

/** Rejects with an AppError of this code and status. */
async function refuses(promise: Promise<unknown>, code: string, status: number) {
  await assert.rejects(promise, (error) => {
    assert.ok(isAppError(error), String(error));
    assert.equal(error.code, code);
    assert.equal(error.statusCode, status);
    return true;
  });
}

const account = generationAccount;

const sections = [
  { id: "introduction", type: "text" as const, name: "Introduction", wordRange: { min: 150, max: 300 } },
  {
    id: "main_content",
    type: "sections" as const,
    name: "Main Content",
    minSections: 2,
    maxSections: 5,
    sectionTemplate: { type: "text" as const, instructions: "Expand", wordRange: { min: 300, max: 600 } },
  },
];

describe("generation data", () => {
  let opened: Awaited<ReturnType<typeof openTestPlatform>>;
  let platform: Platform;
  before(async () => {
    opened = await openTestPlatform();
    platform = opened.platform;
    await createMigrator(platform.database, [generationModule]).up();
  });
  after(() => opened.dispose());

  async function pipelineOf(principal: Principal) {
    const template = await createComponent(platform, principal, {
      name: "Article template",
      type: "template",
      config: { templateKey: "tmpl_article" },
    });
    const generator = await createComponent(platform, principal, {
      name: "Generator",
      type: "ai_generator",
      config: { model: "gpt-4", temperature: 0.7, maxTokens: 2000 },
    });
    return createPipeline(platform, principal, {
      name: "Articles",
      defaultContextType: "article",
      components: [{ componentId: template.id }, { componentId: generator.id, configOverrides: { temperature: 0.65 } }],
    });
  }

  it("versions a template: a new row under the same key, version + 1, the earlier one kept", async () => {
    const owner = await account(platform);
    const first = await createTemplate(platform, owner, { templateKey: "tmpl_article", name: "Article", sections });
    assert.equal(first.version, 1);
    assert.deepEqual(first.sections, sections);
    const second = await createTemplateVersion(platform, owner, "tmpl_article", { name: "Article v2", sections });
    assert.equal(second.version, 2);
    assert.notEqual(second.id, first.id);
    const stored = await platform.database.db
      .selectFrom("generation_templates")
      .select(["version", "sections"])
      .where("template_key", "=", "tmpl_article")
      .where("organization_id", "=", owner.organizationId)
      .orderBy("version")
      .execute();
    assert.deepEqual(
      stored.map((r) => r.version),
      [1, 2],
    );
    // Stored in the seed's own form.
    assert.deepEqual((stored[0]?.sections[0] as { word_range?: unknown } | undefined)?.word_range, [150, 300]);
    await refuses(
      createTemplate(platform, owner, { templateKey: "tmpl_article", name: "Again", sections }),
      "template_key_taken",
      409,
    );
    // Another organization's key is not there for this caller.
    await refuses(
      createTemplateVersion(platform, await account(platform), "tmpl_article", { name: "x", sections }),
      "template_not_found",
      404,
    );
  });

  it("refuses a word range whose min exceeds its max", async () => {
    const owner = await account(platform);
    const bad = [{ id: "intro", type: "text" as const, name: "Intro", wordRange: { min: 300, max: 150 } }];
    await refuses(
      createTemplate(platform, owner, { templateKey: "bad", name: "Bad", sections: bad }),
      "validation_failed",
      400,
    );
  });

  it("refuses an ai_generator whose model the organization does not allow", async () => {
    const owner = await account(platform, { allowedModels: ["gpt-3.5-turbo"] });
    await refuses(
      createComponent(platform, owner, { name: "G", type: "ai_generator", config: { model: "gpt-4" } }),
      "model_not_allowed",
      403,
    );
    const ok = await createComponent(platform, owner, {
      name: "G",
      type: "ai_generator",
      config: { model: "gpt-3.5-turbo", maxTokens: 10 },
    });
    assert.deepEqual(ok.config, { model: "gpt-3.5-turbo", maxTokens: 10 });
    // A pipeline cannot switch the model to one not allowed either.
    await refuses(
      createPipeline(platform, owner, {
        name: "P",
        components: [{ componentId: ok.id, configOverrides: { model: "gpt-4" } }],
      }),
      "model_not_allowed",
      403,
    );
    // Without a list, any model is allowed.
    const open = await account(platform);
    await createComponent(platform, open, { name: "G", type: "ai_generator", config: { model: "anything" } });
  });

  it("builds a pipeline only of the organization's active components, in order", async () => {
    const owner = await account(platform);
    const pipeline = await pipelineOf(owner);
    assert.deepEqual(
      pipeline.components.map((c) => [c.type, c.order]),
      [
        ["template", 1],
        ["ai_generator", 2],
      ],
    );
    assert.deepEqual(pipeline.components[1]?.configOverrides, { temperature: 0.65 });

    const stranger = await account(platform);
    const theirs = await createComponent(platform, stranger, {
      name: "T",
      type: "transformer",
      config: { format: "markdown" },
    });
    await refuses(
      createPipeline(platform, owner, { name: "P", components: [{ componentId: theirs.id }] }),
      "component_not_found",
      404,
    );
    await refuses(
      createPipeline(platform, owner, { name: "P", components: [{ componentId: randomUUID() }] }),
      "component_not_found",
      404,
    );
    const mine = await createComponent(platform, owner, { name: "T", type: "transformer", config: { format: "html" } });
    await platform.database.db
      .updateTable("generation_components")
      .set({ is_active: false })
      .where("id", "=", mine.id)
      .execute();
    await refuses(
      createPipeline(platform, owner, { name: "P", components: [{ componentId: mine.id }] }),
      "component_inactive",
      409,
    );
    // Nothing of the refused pipelines was written.
    const { rows } = await sql<{
      n: string;
    }>`select count(*) as n from generation_pipelines where organization_id = ${owner.organizationId}`.execute(
      platform.database.db,
    );
    assert.equal(rows[0]?.n, "1");
  });

  it("holds contexts to max_contexts_per_day, batches included", async () => {
    const owner = await account(platform, { maxContextsPerDay: 3 });
    const pipeline = await pipelineOf(owner);
    const context = await createContext(platform, owner, { type: "article", pipelineId: pipeline.id, priority: 2 });
    assert.equal(context.status, "pending");
    assert.deepEqual(context.pipeline, ["template", "ai_generator"]);
    await createBatch(platform, owner, { name: "B", pipelineId: pipeline.id, contexts: [{}, {}] });
    await assert.rejects(createContext(platform, owner, { type: "article", pipelineId: pipeline.id }), (error) => {
      assert.ok(isAppError(error));
      assert.equal(error.code, "context_quota_exceeded");
      assert.equal(error.statusCode, 429);
      assert.ok(error.retryAfterSeconds && error.retryAfterSeconds > 0 && error.retryAfterSeconds <= 86_400);
      return true;
    });
    // Yesterday's contexts do not count.
    await platform.database.db
      .updateTable("generation_contexts")
      .set({ created_at: sql`created_at - interval '1 day'` as any })
      .where("organization_id", "=", owner.organizationId)
      .execute();
    await createContext(platform, owner, { type: "article", pipelineId: pipeline.id });
    // Another organization has its own count.
    const other = await account(platform, { maxContextsPerDay: 1 });
    await createContext(platform, other, { type: "article", pipelineId: (await pipelineOf(other)).id });
  });

  it("counts concurrent creations one after the other, so none passes the limit", async () => {
    const owner = await account(platform, { maxContextsPerDay: 2 });
    const pipeline = await pipelineOf(owner);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => createContext(platform, owner, { type: "x", pipelineId: pipeline.id })),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 2);
  });

  it("runs a context without a pipeline on the organization's default one, and refuses it when there is none", async () => {
    const owner = await account(platform);
    await refuses(createContext(platform, owner, { type: "article" }), "validation_failed", 400);
    const pipeline = await pipelineOf(owner);
    const withDefault = await account(platform, { defaultPipelineId: pipeline.id });
    // Another organization's pipeline as a default is not found, never used.
    await refuses(createContext(platform, withDefault, { type: "article" }), "pipeline_not_found", 404);
    const own = await pipelineOf(withDefault);
    await platform.identity.organizations.update(withDefault, withDefault.organizationId, {
      settings: { defaultPipelineId: own.id },
    });
    const context = await createContext(platform, withDefault, { type: "article" });
    assert.equal(context.pipelineId, own.id);
  });

  it("refuses a batch larger than max_batch_size, and writes nothing for it", async () => {
    const owner = await account(platform, { maxBatchSize: 2 });
    const pipeline = await pipelineOf(owner);
    await refuses(
      createBatch(platform, owner, { name: "B", pipelineId: pipeline.id, contexts: [{}, {}, {}] }),
      "batch_too_large",
      400,
    );
    const batch = await createBatch(platform, owner, {
      name: "B",
      pipelineId: pipeline.id,
      contexts: [{}, { type: "note" }],
    });
    assert.equal(batch.contextCount, 2);
    const contexts = await platform.database.db
      .selectFrom("generation_contexts")
      .select(["id", "type", "batch_id"])
      .where("organization_id", "=", owner.organizationId)
      .orderBy("id")
      .execute();
    assert.deepEqual(
      contexts.map((c) => [c.id, c.type, c.batch_id]),
      batch.contextIds.map((id, i) => [id, i === 0 ? "article" : "note", batch.id]),
      "ids are time-ordered, the pipeline's default type fills in",
    );
    // Another organization's pipeline is not found.
    await refuses(
      createBatch(platform, await account(platform), { name: "B", pipelineId: pipeline.id, contexts: [{}] }),
      "pipeline_not_found",
      404,
    );
  });

  it("refuses an anonymous session: generation is an account's", async () => {
    const anonymous: Principal = { kind: "anonymous", sessionId: randomUUID(), organizationId: randomUUID() };
    await refuses(createContext(platform, anonymous, { type: "x" }), "account_required", 403);
  });
});
