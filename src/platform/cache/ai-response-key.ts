import { createHash } from "node:crypto";

/**
 * The AI response cache key (seed 000): a hash of the normalized content,
 * the prompt or template, the model parameters and the tenant. The tenant is
 * inside the hash, so two organizations sending the same text never share a
 * cached answer; parameters are canonicalized, so key order does not matter.
 */
export interface AiCacheInput {
  organizationId: string;
  content: string;
  /** A template id with its version, or the literal prompt text. */
  prompt: string;
  model: string;
  parameters?: Record<string, unknown>;
}

export function aiResponseCacheKey(input: AiCacheInput): string {
  const material = JSON.stringify([
    "v1",
    input.organizationId,
    normalizeContent(input.content),
    normalizeContent(input.prompt),
    input.model,
    canonical(input.parameters ?? {}),
  ]);
  return createHash("sha256").update(material).digest("hex");
}

/** Unicode NFC, unified line ends, runs of spaces collapsed, ends trimmed. */
export function normalizeContent(text: string): string {
  return text
    .normalize("NFC")
    .replace(/\r\n?/g, "\n")
    .replace(/[ \t]+/g, " ")
    .replace(/ *\n */g, "\n")
    .trim();
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
