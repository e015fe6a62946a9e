import { decodeKeyCursor, encodeKeyCursor, type Page } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { kvKeys, type WorkerHeartbeatFields } from "./kv-keys.ts";
import { WORKER_STATUSES, type WorkerView } from "./schemas.ts";

// The API's statuses are exactly the heartbeat's (a compile-time check both ways).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesMatch: Same<(typeof WORKER_STATUSES)[number], WorkerHeartbeatFields["status"]> = true;
void statusesMatch;

/** Worker ids as a cursor may carry them: what follows the key prefix, bounded. */
const validWorkerId = (id: string) => id.length <= 200;

/**
 * The live workers, from their heartbeats (seed 001's
 * `worker_heartbeat:{worker_id}` hashes): a worker's key lives while it
 * beats (its TTL is 60 s, refreshed each beat), so the keys present are the
 * workers alive. Ordered by worker id, a page at a time. A key that expires
 * between the scan and its read, or a hash missing the seed's fields (a
 * worker of another version, a half-written beat), is left out rather than
 * shown half-known.
 *
 * Workers serve every organization (one process polls all of them), so this
 * list is the deployment's, not a tenant's: any account may read it, as
 * /metrics shows the same processes to anyone who can reach it.
 */
export async function listWorkers(
  platform: Platform,
  options: { limit: number; cursor?: string },
): Promise<Page<WorkerView>> {
  const after = decodeKeyCursor(options.cursor, validWorkerId);
  const prefix = kvKeys.workerHeartbeatPrefix;
  const ids: string[] = [];
  for await (const key of platform.kv.scan(prefix)) {
    const id = key.slice(prefix.length);
    if (id.length > 0 && (after === null || id > after)) ids.push(id);
  }
  ids.sort();
  const items: WorkerView[] = [];
  let more = false;
  for (const id of ids) {
    const worker = workerView(
      id,
      (await platform.kv.hgetall(kvKeys.workerHeartbeat(id))) as Partial<WorkerHeartbeatFields>,
    );
    if (!worker) continue;
    if (items.length === options.limit) {
      more = true;
      break;
    }
    items.push(worker);
  }
  const last = items.at(-1);
  return { items, nextCursor: more && last ? encodeKeyCursor(last.workerId) : null };
}

function workerView(workerId: string, beat: Partial<WorkerHeartbeatFields>): WorkerView | null {
  const status = WORKER_STATUSES.find((s) => s === beat.status);
  const processingCount = count(beat.processing_count);
  if (!status || beat.last_seen === undefined || beat.host === undefined || processingCount === null) return null;
  return {
    workerId,
    status,
    lastSeen: beat.last_seen,
    processingCount,
    host: beat.host,
    pid: count(beat.pid),
    concurrency: count(beat.concurrency),
    startedAt: beat.started_at ?? null,
  };
}

/** A hash field's decimal string as a non-negative integer; null when absent or not one. */
function count(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}
