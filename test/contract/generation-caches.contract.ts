import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { componentRegistry } from "../../src/modules/generation/component-registry.ts";
import { createComponent, updateComponent } from "../../src/modules/generation/components.ts";
import { generationModule } from "../../src/modules/generation/index.ts";
import { kvKeys } from "../../src/modules/generation/kv-keys.ts";
import { setTemplateActive } from "../../src/modules/generation/template-activation.ts";
import { cachedTemplate } from "../../src/modules/generation/template-cache.ts";
import { createTemplate, createTemplateVersion } from "../../src/modules/generation/templates.ts";
import { STAMP_FIELD } from "../../src/platform/cache/hash-cache.ts";
import type { Principal } from "../../src/platform/identity/principal.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { Platform } from "../../src/runtime/platform.ts";

const sections = [{ id: "intro", type: "text" as const, name: "Intro", wordRange: { min: 10, max: 20 } }];

/**
 * Seed 001's template and component registry caches, on every key-value
 * store: what they store (the seed's keys, fields and TTLs), that a second
 * read is served from them (the database is changed behind their back and
 * the cached copy still answers), and that the writes that change what they
 * hold drop them.
 */
export function generationCachesContract(
  name: string,
  open: () => Promise<{ platform: Platform; dispose(): Promise<void> }>,
) {
  describe(`generation caches: ${name}`, () => {
    let opened: { platform: Platform; dispose(): Promise<void> };
    let platform: Platform;
    before(async () => {
      opened = await open();
      platform = opened.platform;
      await createMigrator(platform.database, [generationModule]).up();
    });
    after(() => opened.dispose());

    async function account(): Promise<Principal & { kind: "user" }> {
      const signedIn = await platform.identity.register(
        { email: `cache-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple" },
        null,
        { ipAddress: null, userAgent: null },
      );
      return {
        kind: "user",
        userId: signedIn.user.id,
        sessionId: randomUUID(),
        organizationId: signedIn.organizationId,
        role: "owner",
      };
    }

    const hits = async (namespace: string) =>
      (await platform.metrics.cacheRequests.get()).values.find(
        (v) => v.labels.namespace === namespace && v.labels.outcome === "hit",
      )?.value ?? 0;

    it("caches a template version as the seed's hash for an hour, and drops it when the template is deactivated", async () => {
      const owner = await account();
      const v1 = await createTemplate(platform, owner, { templateKey: "tmpl_c", name: "One", sections });
      const key = kvKeys.template(v1.id);
      assert.deepEqual(await cachedTemplate(platform, owner.organizationId, v1.id), v1, "a miss loads the row");
      const stored = await platform.kv.hgetall(key);
      assert.deepEqual(
        [stored.name, stored.version, stored.updated_at],
        ["One", "1", v1.updatedAt],
        "the seed's fields",
      );
      assert.deepEqual(JSON.parse(stored.structure ?? "null"), {
        sections: [{ id: "intro", type: "text", name: "Intro", instructions: null, word_range: [10, 20] }],
      });
      const ttl = await platform.kv.ttl(key);
      assert.ok(ttl > 3_590_000 && ttl <= 3_600_000, `ttl ${ttl}`);

      await platform.database.db
        .updateTable("generation_templates")
        .set({ name: "Changed behind the cache" })
        .where("id", "=", v1.id)
        .execute();
      const before = await hits("template");
      assert.equal((await cachedTemplate(platform, owner.organizationId, v1.id))?.name, "One", "served from the cache");
      assert.equal((await hits("template")) - before, 1);
      assert.equal(await cachedTemplate(platform, (await account()).organizationId, v1.id), null, "not another's");

      // A new version is a new id: the earlier version's entry stays true, and stays.
      const v2 = await createTemplateVersion(platform, owner, "tmpl_c", { name: "Two", sections });
      assert.equal((await cachedTemplate(platform, owner.organizationId, v1.id))?.name, "One");
      assert.equal((await cachedTemplate(platform, owner.organizationId, v2.id))?.version, 2);

      await setTemplateActive(platform, owner, "tmpl_c", false);
      const fresh = await cachedTemplate(platform, owner.organizationId, v1.id);
      assert.deepEqual(
        [fresh?.name, fresh?.isActive],
        ["Changed behind the cache", false],
        "read again from the database",
      );
      assert.equal((await cachedTemplate(platform, owner.organizationId, v2.id))?.isActive, false);
    });

    it("caches an organization's active components by type for 30 minutes, dropped on create and update", async () => {
      const owner = await account();
      const generator = await createComponent(platform, owner, {
        name: "G",
        type: "ai_generator",
        config: { model: "gpt-4" },
      });
      const registry = await componentRegistry(platform, owner.organizationId);
      assert.deepEqual(registry, { template: [], ai_generator: [generator], transformer: [] });
      const key = kvKeys.componentRegistry(owner.organizationId);
      const stored = await platform.kv.hgetall(key);
      assert.deepEqual(
        Object.keys(stored)
          .filter((field) => field !== STAMP_FIELD)
          .sort(),
        ["ai_generator", "template", "transformer"],
        "a field per type",
      );
      assert.deepEqual(
        JSON.parse(stored.ai_generator ?? "[]").map((c: { id: string; is_active: boolean }) => [c.id, c.is_active]),
        [[generator.id, true]],
      );
      const ttl = await platform.kv.ttl(key);
      assert.ok(ttl > 1_790_000 && ttl <= 1_800_000, `ttl ${ttl}`);

      await platform.database.db
        .updateTable("generation_components")
        .set({ name: "Changed behind the cache" })
        .where("id", "=", generator.id)
        .execute();
      const before = await hits("component_registry");
      assert.equal((await componentRegistry(platform, owner.organizationId)).ai_generator[0]?.name, "G");
      assert.equal((await hits("component_registry")) - before, 1);

      const transformer = await createComponent(platform, owner, {
        name: "T",
        type: "transformer",
        config: { format: "markdown" },
      });
      const afterCreate = await componentRegistry(platform, owner.organizationId);
      assert.deepEqual(
        afterCreate.transformer.map((c) => c.id),
        [transformer.id],
      );
      assert.equal(afterCreate.ai_generator[0]?.name, "Changed behind the cache", "the whole registry was reloaded");

      await updateComponent(platform, owner, generator.id, { isActive: false });
      assert.deepEqual((await componentRegistry(platform, owner.organizationId)).ai_generator, []);
      // Another organization's registry is its own.
      const other = await account();
      assert.deepEqual(await componentRegistry(platform, other.organizationId), {
        template: [],
        ai_generator: [],
        transformer: [],
      });
    });
  });
}
