import type { Kysely } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
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
