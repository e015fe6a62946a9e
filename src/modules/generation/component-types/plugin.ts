import type { Kysely } from "kysely";
import type { ChatClient } from "../../../platform/ai/chat-client.ts";
import type { Tables } from "../../../platform/database/tables.ts";
import type { OrganizationSettings } from "../../../platform/identity/organization-service.ts";
import type { ComponentType } from "../tables.ts";

/**
 * What a pipeline's components hand each other, stored as the context's
 * result with seed 001's keys: the template component's filled template,
 * the ai_generator's generated_content, the transformer's formatted_content.
 */
export interface PipelineState {
  template?: FilledTemplate;
  /** Per section id: its text, or for a repeated section each instance's text. */
  generated_content?: Record<string, string | string[]>;
  formatted_content?: { format: string; content: string; table_of_contents?: string[] };
}

/** A template with its sections laid out for one context (seed 001's data.template). */
export interface FilledTemplate {
  id: string;
  version: number;
  title: string | null;
  sections: FilledSection[];
}

export interface FilledSection {
  id: string;
  name: string;
  instructions: string | null;
  word_range: [number, number];
  /** For an instance of a repeated section: the repeated section's id, whose list it belongs to. */
  part_of?: string;
}

/** Tokens a component spent, and what they cost by the component's metadata.cost_per_1k_tokens. */
export interface ComponentUsage {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface ComponentRun {
  context: { id: string; organizationId: string; type: string; data: Record<string, unknown> };
  /** The component's config with the pipeline step's overrides applied (seed's snake_case keys). */
  config: Record<string, unknown>;
  /** The component's metadata (cost_per_1k_tokens and the like). */
  metadata: Record<string, unknown>;
  state: PipelineState;
  settings: OrganizationSettings;
  db: Kysely<Tables>;
  ai: AiAccess;
  signal: AbortSignal;
}

/** How an ai_generator reaches the provider: the chat client, paced by the provider's budget. */
export interface AiAccess {
  chat: ChatClient | null;
  /**
   * Runs one completion inside the provider's token and request budget,
   * waiting out a 429's Retry-After (not a failure).
   */
  complete: ChatClient["complete"];
}

export interface ComponentOutput {
  state: PipelineState;
  usage?: ComponentUsage;
}

/** One component type: a new type is one file exporting one of these, listed in index.ts. */
export interface ComponentPlugin {
  type: ComponentType;
  run(run: ComponentRun): Promise<ComponentOutput>;
}

/**
 * A component's failure that retrying cannot fix (a template that does not
 * exist, a model the organization no longer allows): the context fails at
 * once instead of retrying, with the code and message kept on it.
 */
export class PermanentComponentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "PermanentComponentError";
  }
}
