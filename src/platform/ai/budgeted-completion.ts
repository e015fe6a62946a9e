import type { ChatClient, ChatRequest, ChatResult } from "./chat-client.ts";
import { type ProviderRetryOptions, withProviderRetries } from "./provider-retry.ts";
import type { AiBudget } from "./token-budget.ts";

/** Completion tokens assumed when a request names no maxTokens: the estimate must bound the reply too. */
export const DEFAULT_COMPLETION_ESTIMATE = 1_024;

/**
 * A cautious guess of the tokens a chat call will use, for the budget's
 * reservation: the prompt at one token per three bytes of UTF-8 (English
 * runs nearer four, other scripts denser), a few tokens of framing per
 * message, and the most the reply may take (`maxTokens`, else
 * DEFAULT_COMPLETION_ESTIMATE). Over-guessing only holds budget until
 * `settle` refunds it.
 */
export function estimateChatTokens(request: Pick<ChatRequest, "messages" | "maxTokens">): number {
  let promptBytes = 0;
  for (const m of request.messages) promptBytes += Buffer.byteLength(m.content, "utf8");
  return (
    Math.ceil(promptBytes / 3) + 4 * request.messages.length + 3 + (request.maxTokens ?? DEFAULT_COMPLETION_ESTIMATE)
  );
}

/**
 * One chat completion paced by the shared budget: each attempt acquires the
 * model's budget (waiting for it), calls the provider, and settles the
 * reservation by the usage the provider reports; 429s are waited out and
 * failures retried as `withProviderRetries` says. A failed or refused
 * attempt keeps its charge, since providers count those calls too.
 * `estimatedTokens` defaults to estimateChatTokens(request).
 */
export async function completeWithinBudget(
  ai: { chat: ChatClient; budget: AiBudget },
  request: ChatRequest,
  options: ProviderRetryOptions & { estimatedTokens?: number } = {},
): Promise<ChatResult> {
  const model = request.model ?? ai.chat.model;
  const estimatedTokens = options.estimatedTokens ?? estimateChatTokens(request);
  return withProviderRetries(async () => {
    const reservation = await ai.budget.acquire({ model, estimatedTokens, signal: options.signal });
    const result = await ai.chat.complete({ ...request, model, signal: options.signal });
    const used = result.usage ? result.usage.promptTokens + result.usage.completionTokens : estimatedTokens;
    // The call is done and paid for: a store outage now must not fail it. The
    // correction is lost, so the estimate stays charged instead of the usage.
    await ai.budget.settle(reservation, used).catch(() => {});
    return result;
  }, options);
}
