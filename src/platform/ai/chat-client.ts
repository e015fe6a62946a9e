import OpenAI from "openai";
import { AiProviderError } from "./errors.ts";

/**
 * Chat completions from any OpenAI-compatible server (OpenAI, Ollama, vLLM,
 * llama.cpp's server...), through the official SDK pointed at AI_BASE_URL.
 * Strata never invents model output: with no provider configured, callers
 * get AiNotConfiguredError and answer 503.
 */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** The configured AI_MODEL unless given (a component names its own). */
  model?: string;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  stop?: string[];
}

export interface ChatResult {
  content: string;
  model: string;
  usage: { promptTokens: number; completionTokens: number } | null;
}

export { AiNotConfiguredError, AiProviderError } from "./errors.ts";

export interface ChatClient {
  readonly model: string;
  complete(request: ChatRequest): Promise<ChatResult>;
  /** Yields the reply's text as it arrives; the last value returned is the whole reply. */
  stream(request: ChatRequest): AsyncGenerator<string, ChatResult>;
}

export function createChatClient(
  config: { baseUrl: string; apiKey: string | null; model: string; timeoutMs: number } | null,
): ChatClient | null {
  if (!config) return null;
  const client = new OpenAI({
    baseURL: config.baseUrl,
    // Local servers need no key; the SDK insists on a value.
    apiKey: config.apiKey ?? "not-needed",
    timeout: config.timeoutMs,
    maxRetries: 1,
  });
  return new OpenAiChatClient(client, config.model);
}

class OpenAiChatClient implements ChatClient {
  constructor(
    private readonly client: OpenAI,
    readonly model: string,
  ) {}

  async complete(request: ChatRequest): Promise<ChatResult> {
    try {
      const reply = await this.client.chat.completions.create({
        model: request.model ?? this.model,
        messages: request.messages,
        ...samplingParameters(request),
      });
      return {
        content: reply.choices[0]?.message?.content ?? "",
        model: reply.model,
        usage: reply.usage
          ? { promptTokens: reply.usage.prompt_tokens, completionTokens: reply.usage.completion_tokens }
          : null,
      };
    } catch (error) {
      throw toProviderError(error);
    }
  }

  async *stream(request: ChatRequest): AsyncGenerator<string, ChatResult> {
    let content = "";
    let model = this.model;
    try {
      const chunks = await this.client.chat.completions.create({
        model: request.model ?? this.model,
        messages: request.messages,
        stream: true,
        ...samplingParameters(request),
      });
      for await (const chunk of chunks) {
        model = chunk.model || model;
        const piece = chunk.choices[0]?.delta?.content ?? "";
        if (piece) {
          content += piece;
          yield piece;
        }
      }
    } catch (error) {
      throw toProviderError(error);
    }
    return { content, model, usage: null };
  }
}

/** The request's optional sampling parameters, in the provider's names; absent ones are left to its defaults. */
function samplingParameters(request: ChatRequest) {
  return {
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
    ...(request.topP !== undefined ? { top_p: request.topP } : {}),
    ...(request.frequencyPenalty !== undefined ? { frequency_penalty: request.frequencyPenalty } : {}),
    ...(request.presencePenalty !== undefined ? { presence_penalty: request.presencePenalty } : {}),
    ...(request.stop !== undefined && request.stop.length > 0 ? { stop: request.stop } : {}),
  };
}

function toProviderError(error: unknown): AiProviderError {
  if (error instanceof OpenAI.APIError) return new AiProviderError(error.status ?? null, error);
  return new AiProviderError(null, error);
}
