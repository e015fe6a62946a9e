import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { durationOfStatsMember, kvKeys, PIPELINE_STATS_TTL_MS } from "./kv-keys.ts";
import { organizationScope } from "./organization-scope.ts";
import type { PipelineStatsView } from "./schemas.ts";
import { statusCounts } from "./views.ts";

/**
 * A pipeline's recent processing times and its contexts by status. The
 * times come from seed 001's `pipeline_stats:{pipeline_id}` sorted set,
 * which workers add a member to as each context completes (its duration and
 * id, scored by the completion time in epoch ms): those of the last day
 * count. Older members are dropped here, as the set's own TTL would drop
 * the whole set only once a day went by without a completion. Percentiles
 * are nearest-rank. The counts are one GROUP BY on the contexts'
 * (pipeline_id, status) index. Another organization's pipeline is not found.
 */
export async function pipelineStats(
  platform: Platform,
  principal: Principal,
  pipelineId: string,
): Promise<PipelineStatsView> {
  const scope = organizationScope(principal);
  const db = platform.database.db;
  const pipeline = await db
    .selectFrom("generation_pipelines")
    .select("id")
    .where("organization_id", "=", scope.organizationId)
    .where("id", "=", pipelineId)
    .executeTakeFirst();
  if (!pipeline) throw errors.pipelineNotFound();
  const groups = await db
    .selectFrom("generation_contexts")
    .select((eb) => ["status", eb.fn.countAll<string>().as("count")])
    .where("pipeline_id", "=", pipelineId)
    .groupBy("status")
    .execute();

  const since = platform.clock.now() - PIPELINE_STATS_TTL_MS;
  const key = kvKeys.pipelineStats(pipelineId);
  await platform.kv.zremRangeByScore(key, Number.NEGATIVE_INFINITY, since - 1);
  const durations = (await platform.kv.zrangeByScore(key, since, Number.POSITIVE_INFINITY))
    .map((entry) => Math.round(durationOfStatsMember(entry.member)))
    .filter((ms) => Number.isFinite(ms) && ms >= 0)
    .sort((a, b) => a - b);
  const n = durations.length;
  const rank = (p: number) => durations[Math.max(0, Math.ceil((p / 100) * n) - 1)] ?? null;
  return {
    pipelineId,
    since: new Date(since).toISOString(),
    durations: {
      count: n,
      meanMs: n === 0 ? null : durations.reduce((sum, ms) => sum + ms, 0) / n,
      p50Ms: rank(50),
      p95Ms: rank(95),
      maxMs: durations.at(-1) ?? null,
    },
    contexts: statusCounts(groups),
  };
}
