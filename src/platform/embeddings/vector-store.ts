import { createHash } from "node:crypto";
import { type Expression, type Kysely, type RawBuilder, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import { errors } from "../errors/catalog.ts";
import type { JobService } from "../jobs/jobs.ts";
import type { Logger } from "../logging/logger.ts";
import type { EmbedderRegistry } from "./embedder-registry.ts";
import type { EmbeddingSource } from "./embedding-sources.ts";
import { detectVectorSupport, type VectorSupport } from "./vector-support.ts";

type Db = Kysely<Tables>;

/** The queue whose jobs embed what the outbox holds, one job per source. */
export const EMBED_QUEUE = "embeddings.embed";

/** A source's model as queries use it. */
export interface ActiveModel {
  model: string;
  dimensions: number;
}

/** A resource's query vector, ready to compare against the source's stored vectors. */
export interface QueryVector extends ActiveModel {
  /** pgvector's text form of the vector. */
  literal: string;
}

/**
 * Vectors for every module's searchable resources, stored in pgvector
 * beside the rows they describe, and kept in step with them through a
 * transactional outbox:
 * - a module calls `queue` in the transaction that writes a text: the
 *   resource's old vectors are deleted then and there (an edit never leaves
 *   a vector of the old text to be found), and an outbox row and a job are
 *   written with it, so they commit or roll back together;
 * - after commit the job embeds the text (embedding-worker.ts) and writes
 *   the vector, unless the text changed again meanwhile (the newer outbox
 *   row wins) or the resource was deleted (`forget` removed its row);
 * - each vector carries its model and dimension, and queries compare only
 *   vectors of the source's active model (model-lifecycle.ts changes it).
 * Without pgvector (a Postgres server lacking the extension) nothing is
 * queued, and vector queries throw pgvector_not_installed (503).
 */
export class VectorStore {
  readonly #sources = new Map<string, EmbeddingSource>();
  #support: VectorSupport | null = null;

  constructor(
    private readonly db: Db,
    readonly embedders: EmbedderRegistry,
    private readonly jobs: JobService,
    private readonly logger: Logger,
  ) {}

  /** Makes a module's resources embeddable; modules register theirs when the runtime wires them. */
  register(source: EmbeddingSource): void {
    this.#sources.set(source.name, source);
  }

  source(name: string): EmbeddingSource {
    const source = this.#sources.get(name);
    if (!source) throw new Error(`no embedding source named ${name} is registered`);
    return source;
  }

  sources(): EmbeddingSource[] {
    return [...this.#sources.values()];
  }

  /**
   * Whether vectors can be stored here; found out once (after migrations),
   * then remembered. `db` lets a caller already inside a transaction ask
   * on its own connection.
   */
  async support(db: Db = this.db): Promise<VectorSupport> {
    if (this.#support) return this.#support;
    const support = await detectVectorSupport(db);
    if (support.available || support.final) {
      this.#support = support;
      if (!support.available) this.logger.warn({ reason: support.reason }, "vector search is unavailable");
    }
    return support;
  }

  /** Throws pgvector_not_installed when vectors cannot be stored here. */
  async requireSupport(): Promise<void> {
    if (!(await this.support()).available) throw errors.pgvectorNotInstalled();
  }

  /**
   * In the transaction that writes the texts: forgets the resources' vectors
   * and queues them to be embedded again after commit.
   */
  async queue(trx: Db, sourceName: string, items: readonly { id: string; text: string }[]): Promise<void> {
    if (items.length === 0 || !(await this.support(trx)).available) return;
    this.source(sourceName);
    const ids = items.map((item) => item.id);
    await trx.deleteFrom("embeddings").where("source", "=", sourceName).where("resource_id", "in", ids).execute();
    await trx
      .insertInto("embedding_outbox")
      .values(items.map((item) => ({ source: sourceName, resource_id: item.id, text_sha256: textSha256(item.text) })))
      .onConflict((oc) =>
        oc.columns(["source", "resource_id"]).doUpdateSet({
          text_sha256: (eb) => eb.ref("excluded.text_sha256"),
          queued_at: sql`now()`,
          claimed_until: null,
        }),
      )
      .execute();
    await this.jobs.enqueue(trx, { queue: EMBED_QUEUE, payload: { source: sourceName } });
  }

  /** In the transaction that deletes the resources: their vectors and anything queued for them go too. */
  async forget(trx: Db, sourceName: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0 || !(await this.support(trx)).available) return;
    await trx.deleteFrom("embedding_outbox").where("source", "=", sourceName).where("resource_id", "in", ids).execute();
    await trx.deleteFrom("embeddings").where("source", "=", sourceName).where("resource_id", "in", ids).execute();
  }

  /** The model a source's queries use, or null while none has finished (the first vectors are still being made). */
  async activeModel(sourceName: string, db: Db = this.db): Promise<ActiveModel | null> {
    const row = await db
      .selectFrom("embedding_models")
      .select(["model", "dimensions"])
      .where("source", "=", sourceName)
      .where("state", "=", "active")
      .executeTakeFirst();
    return row && row.dimensions > 0 ? row : null;
  }

  /**
   * The query text embedded with the source's active model; null when the
   * source has no active model yet or that model's embedder is not
   * configured in this process (vector search then has nothing to offer,
   * and lexical search still answers). Throws pgvector_not_installed
   * without the extension.
   */
  async queryVector(sourceName: string, text: string, signal?: AbortSignal): Promise<QueryVector | null> {
    return (await this.queryVectors(sourceName, [text], signal))[0] ?? null;
  }

  /** queryVector for several texts, embedded in one call; each null as queryVector's would be. */
  async queryVectors(
    sourceName: string,
    texts: readonly string[],
    signal?: AbortSignal,
  ): Promise<(QueryVector | null)[]> {
    await this.requireSupport();
    const active = await this.activeModel(sourceName);
    const embedder = active ? this.embedders.forModel(active.model) : null;
    if (!active || !embedder || texts.length === 0) return texts.map(() => null);
    const vectors = await embedder.embed(texts, { signal });
    return texts.map((_, i) => {
      const vector = vectors[i];
      return vector && vector.length === active.dimensions ? { ...active, literal: vectorLiteral(vector) } : null;
    });
  }

  /** The stored vector of one resource under the source's active model, as a query vector (similar items). */
  async storedVector(sourceName: string, resourceId: string): Promise<QueryVector | null> {
    await this.requireSupport();
    const active = await this.activeModel(sourceName);
    if (!active) return null;
    const row = await this.db
      .selectFrom("embeddings")
      .select(sql<string>`embedding::text`.as("literal"))
      .where("source", "=", sourceName)
      .where("resource_id", "=", resourceId)
      .where("model", "=", active.model)
      .executeTakeFirst();
    return row ? { ...active, literal: row.literal } : null;
  }

  /**
   * The source's resources nearest the query vector among those `visible`
   * allows (a condition on `e.resource_id`, applied before ranking, so the
   * caller's scope decides what is ranked), best first, with their cosine
   * similarity. Served by the (source, model) HNSW index when the planner
   * finds it cheaper than scanning the caller's vectors.
   */
  nearestQuery(
    sourceName: string,
    query: QueryVector,
    visible: (resourceId: RawBuilder<string>) => Expression<boolean>,
    limit: number,
  ) {
    const distance = distanceTo(query);
    return this.db
      .selectFrom("embeddings as e")
      .select(["e.resource_id", sql<number>`1 - (${distance})`.as("similarity")])
      .where("e.source", "=", sql.lit(sourceName))
      .where("e.model", "=", sql.lit(query.model))
      .where(visible(sql.ref<string>("e.resource_id") as RawBuilder<string>))
      .orderBy(distance)
      .limit(limit);
  }
}

/** Cosine distance between a stored vector (alias `e`) and the query, in the form the partial HNSW index serves. */
export function distanceTo(query: QueryVector): RawBuilder<number> {
  const dims = sql.lit(query.dimensions);
  return sql<number>`(e.embedding::vector(${dims}) <=> ${query.literal}::vector(${dims}))`;
}

/** pgvector's text form, at the float32 precision it stores (seven significant digits). */
export function vectorLiteral(vector: readonly number[]): string {
  return `[${vector.map((v) => Number(v.toPrecision(7))).join(",")}]`;
}

export function textSha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
