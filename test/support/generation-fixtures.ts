import { randomUUID } from "node:crypto";
import { createComponent } from "../../src/modules/generation/components.ts";
import { createPipeline } from "../../src/modules/generation/pipelines.ts";
import { createTemplate } from "../../src/modules/generation/templates.ts";
import type { Principal } from "../../src/platform/identity/principal.ts";
import type { Platform } from "../../src/runtime/platform.ts";

/** A new account (its own organization), with organization settings when given. */
export async function generationAccount(
  platform: Platform,
  settings?: Record<string, unknown>,
): Promise<Principal & { kind: "user" }> {
  const signedIn = await platform.identity.register(
    { email: `gen-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple" },
    null,
    { ipAddress: null, userAgent: null },
  );
  const principal = {
    kind: "user" as const,
    userId: signedIn.user.id,
    sessionId: randomUUID(),
    organizationId: signedIn.organizationId,
    role: "owner" as const,
  };
  if (settings) await platform.identity.organizations.update(principal, principal.organizationId, { settings });
  return principal;
}

/** Seed 001's article pipeline: template → ai_generator (temperature overridden) → markdown with a table of contents. */
export async function articlePipeline(
  platform: Platform,
  principal: Principal,
  templateKey = "tmpl_article_technical",
) {
  await createTemplate(platform, principal, {
    templateKey,
    name: "Technical Article Template",
    sections: [
      {
        id: "introduction",
        type: "text",
        name: "Introduction",
        instructions: "Introduce {title} for {target_audience}",
        wordRange: { min: 150, max: 300 },
      },
      {
        id: "main_content",
        type: "sections",
        name: "Main Content",
        minSections: 2,
        maxSections: 5,
        sectionTemplate: { type: "text", instructions: "Expand on {keyword}", wordRange: { min: 300, max: 600 } },
      },
      { id: "conclusion", type: "text", name: "Conclusion", wordRange: { min: 150, max: 300 } },
    ],
  });
  const template = await createComponent(platform, principal, {
    name: "Article Template",
    type: "template",
    config: { templateKey },
  });
  const generator = await createComponent(platform, principal, {
    name: "GPT-4 Article Generator",
    type: "ai_generator",
    config: { model: "gpt-4", temperature: 0.7, maxTokens: 2000, stopSequences: ["\n\n\n"] },
    metadata: { cost_per_1k_tokens: 0.06 },
  });
  const transformer = await createComponent(platform, principal, {
    name: "Markdown Transformer",
    type: "transformer",
    config: { format: "markdown" },
  });
  return createPipeline(platform, principal, {
    name: "Article Generation Pipeline",
    defaultContextType: "article",
    components: [
      { componentId: template.id },
      { componentId: generator.id, configOverrides: { temperature: 0.65 } },
      { componentId: transformer.id, configOverrides: { addTableOfContents: true } },
    ],
  });
}

/** A pipeline of one transformer over nothing: the cheapest real pipeline, for throughput. */
export async function noOpPipeline(platform: Platform, principal: Principal) {
  const transformer = await createComponent(platform, principal, {
    name: "Plain",
    type: "transformer",
    config: { format: "text" },
  });
  return createPipeline(platform, principal, { name: "No-op", components: [{ componentId: transformer.id }] });
}
