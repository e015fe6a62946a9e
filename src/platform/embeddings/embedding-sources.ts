import type { Kysely } from "kysely";
import type { Tables } from "../database/tables.ts";

/**
 * Which configured model embeds a source: `passage` for text people write at
 * length (journal entries, documents, files: seed 002's larger model),
 * `short` for names and phrases (topics: its smaller one).
 */
export type ModelClass = "passage" | "short";

/**
 * Something a module makes searchable by meaning: the platform embeds its
 * resources' texts and keeps the vectors in step (vector-store.ts). The
 * module owns the resources; the platform only asks for their texts.
 */
export interface EmbeddingSource {
  /** `<module>.<resource>`, e.g. "journal.entries"; stored beside every vector. */
  name: string;
  modelClass: ModelClass;
  /** The text each of these resources has now; a resource that is gone is simply absent. */
  loadTexts(db: Kysely<Tables>, ids: readonly string[]): Promise<Map<string, string>>;
  /** Every resource's id in ascending order, after `after` (keyset), at most `limit`: re-embedding walks them. */
  listIds(db: Kysely<Tables>, after: string | null, limit: number): Promise<string[]>;
}
