import type { ColumnType, Generated } from "kysely";
import type { Json, NullableTimestamp, Timestamp } from "../../platform/database/column-types.ts";

/** The generation module's tables (seed 001), migrations 200-299. */

/**
 * The values the migrations' CHECK constraints allow, declared once: the row
 * types below and the API's enums (schemas.ts) are made from these lists
 * (tables.test.ts checks them against the database).
 */
export const COMPONENT_TYPES = ["template", "ai_generator", "transformer"] as const;
/** A context's and a batch's status. */
export const CONTEXT_STATUSES = ["pending", "processing", "completed", "failed", "cancelled"] as const;

export type ComponentType = (typeof COMPONENT_TYPES)[number];
export type ContextStatus = (typeof CONTEXT_STATUSES)[number];

/** Optional on insert (the column has a default), always there when read. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface GenerationTemplatesTable {
  id: Generated<string>;
  organization_id: string;
  /** Stable across versions: the seed's template id ("tmpl_article_technical"). */
  template_key: string;
  version: number;
  name: string;
  description: string | null;
  /** The seed's structure.sections: see TemplateSection in schemas.ts. */
  sections: Json<unknown[]>;
  /** The seed's metadata.tags, a column so it can be indexed. */
  tags: Defaulted<string[]>;
  metadata: Json<Record<string, unknown>>;
  is_active: Defaulted<boolean>;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface GenerationComponentsTable {
  id: Generated<string>;
  organization_id: string;
  name: string;
  type: ComponentType;
  description: string | null;
  config: Json<Record<string, unknown>>;
  metadata: Json<Record<string, unknown>>;
  is_active: Defaulted<boolean>;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface GenerationPipelinesTable {
  id: Generated<string>;
  organization_id: string;
  name: string;
  description: string | null;
  default_context_type: string | null;
  metadata: Json<Record<string, unknown>>;
  is_active: Defaulted<boolean>;
  created_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** One step of a pipeline: the seed's pipelines.components[], position being its "order". */
export interface GenerationPipelineComponentsTable {
  pipeline_id: string;
  position: number;
  component_id: string;
  organization_id: string;
  name: string | null;
  config_overrides: Json<Record<string, unknown>>;
}

export interface GenerationBatchesTable {
  id: string;
  organization_id: string;
  /** The seed's created_by: the user the batch (and its contexts) belong to. */
  user_id: string;
  pipeline_id: string | null;
  name: string;
  description: string | null;
  status: Defaulted<ContextStatus>;
  priority: Defaulted<number>;
  context_count: Defaulted<number>;
  completed_count: Defaulted<number>;
  failed_count: Defaulted<number>;
  cancelled_count: Defaulted<number>;
  processing_started_at: NullableTimestamp;
  processing_completed_at: NullableTimestamp;
  /** bigint: read as a string by the driver. */
  total_duration_ms: ColumnType<string | number | null, number | null | undefined, number | null>;
  metadata: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface GenerationContextsTable {
  id: string;
  organization_id: string;
  user_id: string;
  batch_id: string | null;
  pipeline_id: string | null;
  type: string;
  status: Defaulted<ContextStatus>;
  /** The seed's metadata.priority: 1 is polled first. */
  priority: Defaulted<number>;
  /** The component types the context goes through, in order (the seed's pipeline). */
  pipeline: Defaulted<string[]>;
  data: Json<Record<string, unknown>>;
  result: ColumnType<unknown, string | null | undefined, string | null>;
  error: ColumnType<unknown, string | null | undefined, string | null>;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  duration_ms: ColumnType<string | number | null, number | null | undefined, number | null>;
  completed_components: Defaulted<string[]>;
  /** Milliseconds per component, as the seed's processing.component_timings. */
  component_timings: Json<Record<string, number>>;
  retry_count: Defaulted<number>;
  next_retry_at: NullableTimestamp;
  /** The worker that last took the context (its worker_lock and worker_heartbeat id). */
  worker_id: ColumnType<string | null, string | null | undefined, string | null>;
  input_tokens: Defaulted<number>;
  output_tokens: Defaulted<number>;
  /** numeric: read as a string by the driver. */
  cost_usd: ColumnType<string, number | string | undefined, number | string>;
  metadata: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

declare module "../../platform/database/tables.ts" {
  interface Tables {
    generation_templates: GenerationTemplatesTable;
    generation_components: GenerationComponentsTable;
    generation_pipelines: GenerationPipelinesTable;
    generation_pipeline_components: GenerationPipelineComponentsTable;
    generation_batches: GenerationBatchesTable;
    generation_contexts: GenerationContextsTable;
  }
}
