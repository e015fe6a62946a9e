/**
 * Seed 001's Redis structures, with its keys and TTLs (the store adds the
 * deployment's KV_KEY_PREFIX). Declared once: the workers write them, the
 * routes read them.
 */

/** `worker_lock:{context_id}` → the worker id holding the context; extended while it works. */
export const WORKER_LOCK_TTL_MS = 300_000;
/** `worker_heartbeat:{worker_id}` → a hash of WorkerHeartbeat; refreshed while the worker runs. */
export const WORKER_HEARTBEAT_TTL_MS = 60_000;
/** `pipeline_stats:{pipeline_id}` → a sorted set of recent durations; a day of them. */
export const PIPELINE_STATS_TTL_MS = 86_400_000;
/** `template:{template_id}` → a hash of the template (name, version, structure, updated_at). */
export const TEMPLATE_CACHE_TTL_MS = 3_600_000;
/** `component_registry:{organization_id}` → a hash, per component type, of that type's components. */
export const COMPONENT_REGISTRY_TTL_MS = 1_800_000;

export const kvKeys = {
  workerLock: (contextId: string) => `worker_lock:${contextId}`,
  workerHeartbeat: (workerId: string) => `worker_heartbeat:${workerId}`,
  workerHeartbeatPrefix: "worker_heartbeat:",
  pipelineStats: (pipelineId: string) => `pipeline_stats:${pipelineId}`,
  template: (templateId: string) => `template:${templateId}`,
  componentRegistry: (organizationId: string) => `component_registry:${organizationId}`,
};

/** The heartbeat hash's fields (the seed's four, then what an operator also wants to see). */
export interface WorkerHeartbeatFields {
  /** ISO time of the last beat. */
  last_seen: string;
  status: "idle" | "processing" | "stopping";
  /** Contexts this worker holds now (a decimal string, as hash fields are). */
  processing_count: string;
  host: string;
  pid: string;
  /** Contexts it may hold at once. */
  concurrency: string;
  /** ISO time the worker started. */
  started_at: string;
}

/**
 * A pipeline_stats member: `{duration_ms}:{context_id}` (a sorted set's
 * members are unique; two contexts of one duration are two entries), scored
 * by the completion time in epoch milliseconds.
 */
export function pipelineStatsMember(durationMs: number, contextId: string): string {
  return `${durationMs}:${contextId}`;
}

export function durationOfStatsMember(member: string): number {
  return Number(member.slice(0, member.indexOf(":")));
}
