import type { ChatRequest } from "../../../platform/ai/chat-client.ts";
import { type ComponentPlugin, type FilledSection, PermanentComponentError } from "./plugin.ts";

/**
 * The ai_generator component: one completion per section of the filled
 * template (or, with no template before it, one "content" section from the
 * context's data.instructions), with the component's model and sampling
 * parameters (seed 001's config: model, temperature, max_tokens, top_p,
 * frequency_penalty, presence_penalty, stop_sequences). The model must still
 * be one the organization allows when the context runs. Each completion goes
 * through the provider's shared budget (AiAccess.complete). Tokens are
 * summed, and priced by the component's metadata.cost_per_1k_tokens.
 */
export const aiGeneratorComponent: ComponentPlugin = {
  type: "ai_generator",
  async run({ context, config, metadata, state, settings, ai, signal }) {
    const model = config.model;
    if (typeof model !== "string")
      throw new PermanentComponentError("model_not_allowed", "the component names no model");
    if (settings.allowedModels !== null && !settings.allowedModels.includes(model)) {
      throw new PermanentComponentError("model_not_allowed", `the organization no longer allows model ${model}`);
    }
    const sections: FilledSection[] = state.template?.sections ?? [
      {
        id: "content",
        name: "Content",
        instructions: typeof context.data.instructions === "string" ? context.data.instructions : null,
        word_range: [100, 400],
      },
    ];
    const generated: Record<string, string | string[]> = {};
    let inputTokens = 0;
    let outputTokens = 0;
    for (const section of sections) {
      signal.throwIfAborted();
      const reply = await ai.complete({ ...parameters(config, model), messages: prompt(context, section) });
      inputTokens += reply.usage?.promptTokens ?? 0;
      outputTokens += reply.usage?.completionTokens ?? 0;
      const text = reply.content.trim();
      if (section.part_of) {
        const list = generated[section.part_of];
        generated[section.part_of] = Array.isArray(list) ? [...list, text] : [text];
      } else {
        generated[section.id] = text;
      }
    }
    const price = typeof metadata.cost_per_1k_tokens === "number" ? metadata.cost_per_1k_tokens : 0;
    return {
      state: { ...state, generated_content: generated },
      usage: { inputTokens, outputTokens, costUsd: ((inputTokens + outputTokens) / 1000) * price },
    };
  },
};

function parameters(config: Record<string, unknown>, model: string): Omit<ChatRequest, "messages"> {
  const number = (key: string) => (typeof config[key] === "number" ? (config[key] as number) : undefined);
  const request: Omit<ChatRequest, "messages"> = { model };
  const temperature = number("temperature");
  const maxTokens = number("max_tokens");
  const topP = number("top_p");
  const frequencyPenalty = number("frequency_penalty");
  const presencePenalty = number("presence_penalty");
  if (temperature !== undefined) request.temperature = temperature;
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  if (topP !== undefined) request.topP = topP;
  if (frequencyPenalty !== undefined) request.frequencyPenalty = frequencyPenalty;
  if (presencePenalty !== undefined) request.presencePenalty = presencePenalty;
  if (Array.isArray(config.stop_sequences)) request.stop = config.stop_sequences.map(String);
  return request;
}

function prompt(
  context: { type: string; data: Record<string, unknown> },
  section: FilledSection,
): ChatRequest["messages"] {
  const data = context.data;
  const about = [
    typeof data.title === "string" ? `Title: ${data.title}` : null,
    Array.isArray(data.keywords) ? `Keywords: ${data.keywords.map(String).join(", ")}` : null,
    typeof data.target_audience === "string" ? `Audience: ${data.target_audience}` : null,
    typeof data.tone === "string" ? `Tone: ${data.tone}` : null,
  ].filter((line) => line !== null);
  const [min, max] = section.word_range;
  return [
    {
      role: "system",
      content: `You write one section of a ${context.type}. Reply with the section's text only: no heading, no preamble.`,
    },
    {
      role: "user",
      content: [
        ...about,
        `Section: ${section.name}`,
        section.instructions ? `Instructions: ${section.instructions}` : null,
        max > 0 ? `Length: between ${min} and ${max} words.` : null,
      ]
        .filter((line) => line !== null)
        .join("\n"),
    },
  ];
}
