import OpenAI from "openai";
import { toProviderError } from "./openai-errors.ts";

/**
 * Chat completions from any OpenAI-compatible server (OpenAI, Ollama, vLLM,
 * llama.cpp's server...), through the official SDK pointed at AI_BASE_URL.
 * Strata never invents model output: with no provider configured, callers
 * get AiNotConfiguredError and answer 503.
 *
 * The SDK does not retry (maxRetries 0): a 429 is AiProviderBusyError with
 * the provider's Retry-After, and the caller decides whether to wait
 * (withProviderRetries) and how that counts against its token budget.
 */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** The client's configured model (AI_MODEL) unless given. */
  model?: string;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  stop?: string[];
  /** Aborts the call; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Tokens the provider counted: `promptTokens` in, `completionTokens` out. */
export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  content: string;
  model: string;
  /** Null only when the provider reported none (some local servers do not). */
  usage: ChatUsage | null;
}

export { AiNotConfiguredError, AiProviderBusyError, AiProviderError } from "./errors.ts";

export interface ChatClient {
  readonly model: string;
  complete(request: ChatRequest): Promise<ChatResult>;
  /**
   * Yields the reply's text as it arrives; the last value returned is the
   * whole reply, with the usage the provider sends after the last piece
   * (asked for with `stream_options.include_usage`).
   */
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
    // Retries are the caller's: a hidden retry would spend budget the
    // caller did not reserve, and would wait out a 429 the caller may
    // prefer to hand back to its own client.
    maxRetries: 0,
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
      const reply = await this.client.chat.completions.create(
        { ...this.#body(request), stream: false },
        { signal: request.signal },
      );
      return {
        content: reply.choices[0]?.message?.content ?? "",
        model: reply.model,
        usage: toUsage(reply.usage),
      };
    } catch (error) {
      throw toProviderError(error, request.signal);
    }
  }

  async *stream(request: ChatRequest): AsyncGenerator<string, ChatResult> {
    let content = "";
    let model = request.model ?? this.model;
    let usage: ChatUsage | null = null;
    try {
      const chunks = await this.client.chat.completions.create(
        { ...this.#body(request), stream: true, stream_options: { include_usage: true } },
        { signal: request.signal },
      );
      for await (const chunk of chunks) {
        model = chunk.model || model;
        // The usage chunk comes last, with no choices.
        if (chunk.usage) usage = toUsage(chunk.usage);
        const piece = chunk.choices[0]?.delta?.content ?? "";
        if (piece) {
          content += piece;
          yield piece;
        }
      }
      // The SDK ends an aborted stream quietly, as if the reply were whole; it was not.
      request.signal?.throwIfAborted();
    } catch (error) {
      throw toProviderError(error, request.signal);
    }
    return { content, model, usage };
  }

  #body(request: ChatRequest) {
    return {
      model: request.model ?? this.model,
      messages: request.messages,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.frequencyPenalty !== undefined ? { frequency_penalty: request.frequencyPenalty } : {}),
      ...(request.presencePenalty !== undefined ? { presence_penalty: request.presencePenalty } : {}),
      ...(request.stop !== undefined && request.stop.length > 0 ? { stop: request.stop } : {}),
    };
  }
}

function toUsage(usage: { prompt_tokens: number; completion_tokens: number } | null | undefined): ChatUsage | null {
  return usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : null;
}
