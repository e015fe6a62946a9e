import { sql, type Transaction } from "kysely";
import type { ChatMessage } from "../../platform/ai/chat-client.ts";
import { withProviderRetries } from "../../platform/ai/provider-retry.ts";
import { aiResponseCacheKey } from "../../platform/cache/ai-response-key.ts";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { checkContent, currentContent, ownedDocument, touchDocument } from "./documents.ts";
import { authorOf, ownerColumn } from "./owner-scope.ts";
import { usableTemplate } from "./prompt-templates.ts";
import type { AcceptedSuggestionView, RejectedSuggestionView, SuggestionView } from "./schemas.ts";
import { scheduleSearchIndexing } from "./search-indexer.ts";
import type { SuggestionState } from "./tables.ts";
import { readVersionContent, saveVersion } from "./version-store.ts";

const TEMPERATURE = 0.3;
/**
 * A person is waiting: one provider 429 asking for at most this long is
 * waited out, and a longer one goes back to the client as 503
 * `ai_provider_busy` with the provider's Retry-After.
 */
const INTERACTIVE_BUSY_WAIT_MS = 5_000;

/**
 * Asks the AI provider to improve a document with a template (or the
 * caller's own prompt). The answer is looked up first in the AI response
 * cache under seed 000's content hash (normalized content, prompt, model,
 * parameters and tenant); otherwise it comes from the provider and is cached
 * for 30 minutes. Either way the suggestion is stored as an ai_suggestion
 * version (kept until accepted or rejected) and logged as an AI interaction.
 * `onChunk` receives the reply as it streams; a cached reply arrives whole.
 */
/**
 * Everything about a suggestion request that can be refused with a plain
 * HTTP error: the arguments, the document, the template, the provider. The
 * streaming route runs it before opening the event stream.
 */
export async function checkSuggestionRequest(
  platform: Platform,
  principal: Principal,
  documentId: string,
  input: { templateId?: string; prompt?: string },
) {
  if (Boolean(input.templateId) === Boolean(input.prompt)) {
    throw errors.validationFailed([
      { field: "body.templateId", code: "one_of", message: "give exactly one of templateId and prompt" },
    ]);
  }
  const doc = await ownedDocument(platform, principal, documentId);
  const template = input.templateId ? await usableTemplate(platform, principal, input.templateId) : null;
  const chat = platform.chat;
  if (!chat) throw errors.aiNotConfigured();
  return { doc, template, chat };
}

export async function requestSuggestion(
  platform: Platform,
  principal: Principal,
  documentId: string,
  input: { templateId?: string; prompt?: string },
  onChunk?: (text: string) => void,
): Promise<SuggestionView> {
  const checked = await checkSuggestionRequest(platform, principal, documentId, input);
  return runSuggestion(platform, principal, checked, input, onChunk);
}

/** The rest of a suggestion request, once checkSuggestionRequest has passed. */
export async function runSuggestion(
  platform: Platform,
  principal: Principal,
  { doc, template, chat }: Awaited<ReturnType<typeof checkSuggestionRequest>>,
  input: { templateId?: string; prompt?: string },
  onChunk?: (text: string) => void,
): Promise<SuggestionView> {
  await touchDocument(platform, doc.id);
  const content = await currentContent(platform, doc);
  const instructions = template?.promptText ?? (input.prompt as string);
  const cacheKey = aiResponseCacheKey({
    organizationId: principal.organizationId,
    content,
    prompt: template ? `template:${template.id}@${template.version}` : instructions,
    model: chat.model,
    parameters: { temperature: TEMPERATURE },
  });
  const aiCache = platform.caches.ns("ai");
  const cached = await aiCache.get<{ content: string; model: string }>(cacheKey);
  let reply: { content: string; model: string };
  if (cached) {
    reply = cached;
    onChunk?.(cached.content);
  } else {
    const messages: ChatMessage[] = [
      { role: "system", content: instructions },
      { role: "user", content: `Improve the document below as instructed.\n---\n${content}` },
    ];
    if (onChunk) {
      const stream = chat.stream({ messages, temperature: TEMPERATURE });
      let next = await stream.next();
      while (!next.done) {
        onChunk(next.value);
        next = await stream.next();
      }
      reply = { content: next.value.content, model: next.value.model };
    } else {
      const result = await withProviderRetries(() => chat.complete({ messages, temperature: TEMPERATURE }), {
        busyWaits: 1,
        maxBusyWaitMs: INTERACTIVE_BUSY_WAIT_MS,
      });
      reply = { content: result.content, model: result.model };
    }
    if (reply.content.trim()) await aiCache.set(cacheKey, reply);
  }
  if (!reply.content.trim()) {
    throw errors.aiEmptyResponse();
  }
  checkContent(reply.content, "response");

  const version = await saveVersion(platform.database.db, platform, doc, {
    content: reply.content,
    kind: "ai_suggestion",
    changeDescription: template ? `AI suggestion: ${template.name}` : "AI suggestion: custom prompt",
    author: authorOf(principal),
  });
  const owner = ownerColumn(principal);
  const interaction = await platform.database.db
    .insertInto("ai_interactions")
    .values({
      user_id: owner.column === "user_id" ? owner.value : null,
      anonymous_session_id: owner.column === "anonymous_session_id" ? owner.value : null,
      organization_id: principal.organizationId,
      document_id: doc.id,
      prompt_template_id: template?.id ?? null,
      custom_prompt: template ? null : (input.prompt as string),
      model: reply.model,
      cache_hit: Boolean(cached),
      ai_response: reply.content,
      suggestion_version_id: version.id,
    })
    .returning(["id", "timestamp"])
    .executeTakeFirstOrThrow();
  return {
    id: interaction.id,
    documentId: doc.id,
    versionNumber: version.number,
    content: reply.content,
    cached: Boolean(cached),
    model: reply.model,
    templateId: template?.id ?? null,
    status: "pending",
    createdAt: interaction.timestamp.toISOString(),
  };
}

async function ownedInteraction(platform: Platform, principal: Principal, id: string) {
  const owner = ownerColumn(principal);
  let query = platform.database.db
    .selectFrom("ai_interactions")
    .select(["id", "document_id", "suggestion_version_id", "status"])
    .where("id", "=", id)
    .where(owner.column, "=", owner.value);
  if (owner.organizationId) query = query.where("organization_id", "=", owner.organizationId);
  const row = await query.executeTakeFirst();
  if (!row?.document_id || !row.suggestion_version_id) throw errors.suggestionNotFound();
  return row as typeof row & { document_id: string; suggestion_version_id: string };
}

/** Records a decision once: a second accept or reject finds the interaction no longer pending (409). */
async function decide(
  trx: Transaction<Tables>,
  interactionId: string,
  versionId: string,
  state: Exclude<SuggestionState, "pending">,
) {
  const counter = state === "accepted" ? "accepted_suggestions" : "rejected_suggestions";
  const decided = await trx
    .updateTable("ai_interactions")
    .set({ status: state, [counter]: sql`${sql.ref(counter)} + 1`, decided_at: sql`now()` })
    .where("id", "=", interactionId)
    .where("status", "=", "pending")
    .executeTakeFirst();
  if (decided.numUpdatedRows === 0n) throw errors.suggestionAlreadyDecided();
  await trx.updateTable("document_versions").set({ suggestion_state: state }).where("id", "=", versionId).execute();
}

/** Applies a suggestion as a new major version, and records the decision, in one transaction. */
export async function acceptSuggestion(
  platform: Platform,
  principal: Principal,
  id: string,
): Promise<AcceptedSuggestionView> {
  const interaction = await ownedInteraction(platform, principal, id);
  // Decided already: its version may be pruned, so answer before reading it.
  if (interaction.status !== "pending") throw errors.suggestionAlreadyDecided();
  const doc = await ownedDocument(platform, principal, interaction.document_id);
  const suggestion = await platform.database.db
    .selectFrom("document_versions")
    .selectAll()
    .where("id", "=", interaction.suggestion_version_id)
    .executeTakeFirstOrThrow();
  const content = await readVersionContent(platform.database.db, platform, suggestion);
  const accepted = await transaction(platform.database.db, async (trx) => {
    // The document row first, as every save takes it: locking the suggestion's
    // version before it could deadlock with an autosave patching against it.
    await trx.selectFrom("documents").select("id").where("id", "=", doc.id).forUpdate().execute();
    await decide(trx, id, suggestion.id, "accepted");
    const version = await saveVersion(trx, platform, doc, {
      content,
      kind: "major",
      changeDescription: `Accepted AI suggestion (version ${suggestion.version_number})`,
      author: authorOf(principal),
    });
    return {
      searchDeferred: version.searchDeferred,
      view: { suggestionId: id, status: "accepted" as const, version: { id: version.id, number: version.number } },
    };
  });
  if (accepted.searchDeferred) void scheduleSearchIndexing(platform, doc.id);
  return accepted.view;
}

export async function rejectSuggestion(
  platform: Platform,
  principal: Principal,
  id: string,
): Promise<RejectedSuggestionView> {
  const interaction = await ownedInteraction(platform, principal, id);
  return transaction(platform.database.db, async (trx) => {
    await decide(trx, id, interaction.suggestion_version_id, "rejected");
    return { suggestionId: id, status: "rejected" as const };
  });
}
