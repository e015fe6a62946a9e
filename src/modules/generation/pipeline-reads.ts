import type { Kysely } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { beforeCursor, decodeCursor, type Page, toPage } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { organizationScope } from "./organization-scope.ts";
import type { PipelineView } from "./schemas.ts";
import { type PipelineStepRow, pipelineView } from "./views.ts";

/** A pipeline of the caller's organization, with its steps in order; another organization's is not found. */
export async function getPipeline(platform: Platform, principal: Principal, pipelineId: string): Promise<PipelineView> {
  const scope = organizationScope(principal);
  const db = platform.database.db;
  const row = await db
    .selectFrom("generation_pipelines")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("id", "=", pipelineId)
    .executeTakeFirst();
  if (!row) throw errors.pipelineNotFound();
  return pipelineView(row, (await pipelineSteps(db, [row.id])).get(row.id) ?? []);
}

/** The organization's pipelines, newest first, optionally only the active (or inactive) ones. */
export async function listPipelines(
  platform: Platform,
  principal: Principal,
  options: { active?: boolean; limit: number; cursor?: string },
): Promise<Page<PipelineView>> {
  const scope = organizationScope(principal);
  const db = platform.database.read;
  let query = db.selectFrom("generation_pipelines").selectAll().where("organization_id", "=", scope.organizationId);
  if (options.active !== undefined) query = query.where("is_active", "=", options.active);
  const after = decodeCursor(options.cursor);
  if (after) query = query.where(beforeCursor(after, "created_at", "id"));
  const rows = await query
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(options.limit + 1)
    .execute();
  const steps = await pipelineSteps(
    db,
    rows.slice(0, options.limit).map((r) => r.id),
  );
  return toPage(
    rows,
    options.limit,
    (r) => ({ at: r.created_at, id: r.id }),
    (r) => pipelineView(r, steps.get(r.id) ?? []),
  );
}

/** The steps of the given pipelines, each pipeline's in order, with each component's type (one query). */
export async function pipelineSteps(
  db: Kysely<Tables>,
  pipelineIds: string[],
): Promise<Map<string, PipelineStepRow[]>> {
  const byPipeline = new Map<string, PipelineStepRow[]>();
  if (pipelineIds.length === 0) return byPipeline;
  const rows = await db
    .selectFrom("generation_pipeline_components as s")
    .innerJoin("generation_components as c", "c.id", "s.component_id")
    .select(["s.pipeline_id", "s.component_id", "c.type", "s.name", "s.position", "s.config_overrides"])
    .where("s.pipeline_id", "in", pipelineIds)
    .orderBy("s.pipeline_id")
    .orderBy("s.position")
    .execute();
  for (const { pipeline_id, ...step } of rows) {
    const list = byPipeline.get(pipeline_id) ?? [];
    list.push(step);
    byPipeline.set(pipeline_id, list);
  }
  return byPipeline;
}
