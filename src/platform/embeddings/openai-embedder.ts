import OpenAI from "openai";
import { AiProviderError } from "../ai/errors.ts";
import { toProviderError } from "../ai/openai-errors.ts";
import { type Embedder, normalize } from "./embedder.ts";

export interface RemoteEmbedderConfig {
  baseUrl: string;
  apiKey: string | null;
  model: string;
  timeoutMs: number;
}

/**
 * Embeddings from any OpenAI-compatible `/embeddings` endpoint (OpenAI,
 * Ollama, vLLM, llama.cpp's server), through the official SDK. As with
 * chat, the SDK does not retry: a 429 is AiProviderBusyError with the
 * provider's Retry-After, any other failure AiProviderError, and the caller
 * (a job, which retries with backoff) decides. Vectors come back in the
 * order of the texts whatever order the server lists them in, scaled to
 * unit length (not every server normalizes); the dimension is learned from
 * the first answer and then held to.
 */
export class OpenAiEmbedder implements Embedder {
  readonly model: string;
  #dimension: number | null = null;
  readonly #client: OpenAI;

  constructor(config: RemoteEmbedderConfig) {
    this.model = config.model;
    this.#client = new OpenAI({
      baseURL: config.baseUrl,
      // Local servers need no key; the SDK insists on a value.
      apiKey: config.apiKey ?? "not-needed",
      timeout: config.timeoutMs,
      maxRetries: 0,
    });
  }

  get dimension(): number | null {
    return this.#dimension;
  }

  async embed(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<number[][]> {
    if (texts.length === 0) return [];
    let reply: OpenAI.Embeddings.CreateEmbeddingResponse;
    try {
      reply = await this.#client.embeddings.create(
        { model: this.model, input: [...texts], encoding_format: "float" },
        { signal: options.signal },
      );
    } catch (error) {
      throw toProviderError(error, options.signal);
    }
    const vectors = new Array<number[] | undefined>(texts.length);
    for (const item of reply.data) vectors[item.index] = item.embedding;
    return vectors.map((vector, i) => {
      if (!vector) throw new AiProviderError(null, null, `the AI provider returned no embedding for text ${i}`);
      if (this.#dimension === null) this.#dimension = vector.length;
      if (vector.length !== this.#dimension) {
        throw new AiProviderError(
          null,
          null,
          `the AI provider returned a ${vector.length}-dimension vector; ${this.model} gave ${this.#dimension} before`,
        );
      }
      return normalize(vector);
    });
  }
}
