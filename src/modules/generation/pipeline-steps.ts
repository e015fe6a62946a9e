import type { Kysely } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { ComponentType } from "./tables.ts";

export interface PipelineStep {
  /** The step's name in completed_components and component_timings: its type (seed 001), or type#order when a type repeats. */
  key: string;
  type: ComponentType;
  componentId: string;
  /** The component's config with the step's overrides over it. */
  config: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** A pipeline's components in order, each with its effective config. */
export async function pipelineSteps(db: Kysely<Tables>, pipelineId: string): Promise<PipelineStep[]> {
  const rows = await db
    .selectFrom("generation_pipeline_components as s")
    .innerJoin("generation_components as c", "c.id", "s.component_id")
    .select(["s.position", "s.config_overrides", "c.id", "c.type", "c.config", "c.metadata"])
    .where("s.pipeline_id", "=", pipelineId)
    .orderBy("s.position")
    .execute();
  const repeated = new Set(rows.filter((r, i) => rows.findIndex((o) => o.type === r.type) !== i).map((r) => r.type));
  return rows.map((row) => ({
    key: repeated.has(row.type) ? `${row.type}#${row.position}` : row.type,
    type: row.type,
    componentId: row.id,
    config: { ...row.config, ...row.config_overrides },
    metadata: row.metadata,
  }));
}

const STEPS_CACHE = "generation_pipeline_steps";

/**
 * A pipeline's steps through an in-process cache (every context of a
 * pipeline reads the same ones): dropped in every process when the pipeline
 * or one of its components changes (forgetPipelineSteps), and after 30 s in
 * any case, the longest a missed drop leaves a stale entry.
 */
export async function cachedPipelineSteps(platform: Platform, pipelineId: string): Promise<PipelineStep[]> {
  const cache = platform.caches.local.cache<PipelineStep[]>(STEPS_CACHE, { ttlMs: 30_000, max: 10_000 });
  return (await cache.getOrLoad(pipelineId, () => pipelineSteps(platform.database.db, pipelineId))) ?? [];
}

/** Drops the cached steps of the given pipelines, or of every pipeline that uses `componentId`. */
export async function forgetPipelineSteps(
  platform: Platform,
  which: { pipelineId: string } | { componentId: string },
): Promise<void> {
  const ids =
    "pipelineId" in which
      ? [which.pipelineId]
      : (
          await platform.database.db
            .selectFrom("generation_pipeline_components")
            .select("pipeline_id")
            .distinct()
            .where("component_id", "=", which.componentId)
            .execute()
        ).map((row) => row.pipeline_id);
  await Promise.all(ids.map((id) => platform.caches.local.invalidate(STEPS_CACHE, id)));
}
