import type { ColumnType } from "kysely";
import type { NullableTimestamp, Timestamp } from "../database/column-types.ts";

/** The embedding store's tables (migration 5): vectors, the outbox, and each source's models. */

/** A model's part in a source's search: being filled, answering queries, or being removed. */
export const EMBEDDING_MODEL_STATES = ["building", "active", "retiring"] as const;
export type EmbeddingModelState = (typeof EMBEDDING_MODEL_STATES)[number];

export interface EmbeddingsTable {
  source: string;
  resource_id: string;
  model: string;
  dimensions: number;
  /** SHA-256 of the text the vector was made from. */
  text_sha256: string;
  /** pgvector's `vector`, written as its text form ('[0.1,0.2,...]'); absent without the extension. */
  embedding: ColumnType<string, string, string>;
  embedded_at: Timestamp;
}

export interface EmbeddingOutboxTable {
  source: string;
  resource_id: string;
  /** SHA-256 of the text to embed, as the resource's transaction saw it. */
  text_sha256: string;
  queued_at: Timestamp;
  /** A worker holds the row until then while it embeds (null: free). */
  claimed_until: NullableTimestamp;
}

export interface EmbeddingModelsTable {
  source: string;
  model: string;
  /** 0 until the model's first vector tells it. */
  dimensions: ColumnType<number, number | undefined, number>;
  state: EmbeddingModelState;
  /** The re-embedding's keyset position: the last resource id it embedded (null: not started). */
  backfill_after: string | null;
  started_at: Timestamp;
  activated_at: NullableTimestamp;
}

declare module "../database/tables.ts" {
  interface Tables {
    embeddings: EmbeddingsTable;
    embedding_outbox: EmbeddingOutboxTable;
    embedding_models: EmbeddingModelsTable;
  }
}
