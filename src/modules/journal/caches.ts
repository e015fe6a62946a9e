import { ownerColumn } from "../../platform/identity/owner-scope.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";

/*
 * Seed 002's key-value keys for the journal. The {user_id} of the seed's
 * keys is the owner: the user, or the anonymous session until it registers.
 */

/** Pre-computed insights (6 hours), dropped when the owner's entries change. */
export const INSIGHTS_TTL_MS = 6 * 60 * 60_000;
/** Topic suggestions (2 hours), dropped when an analysis links topics. */
export const TOPIC_SUGGESTIONS_TTL_MS = 2 * 60 * 60_000;
/** Sentiment by text (a day): an entry saved again unchanged is not scored again. */
export const SENTIMENT_TTL_MS = 24 * 60 * 60_000;
/** An analysis task's status (an hour) and its results (a day). */
export const TASK_STATUS_TTL_MS = 60 * 60_000;
export const TASK_RESULTS_TTL_MS = 24 * 60 * 60_000;

export const insightsKey = (ownerId: string) => `api:analytics:${ownerId}`;
export const topicSuggestionsKey = (ownerId: string) => `models:topics:${ownerId}`;
export const sentimentKey = (textHash: string) => `models:sentiment:${textHash}`;
export const taskStatusKey = (taskId: string) => `tasks:status:${taskId}`;
export const taskResultsKey = (taskId: string) => `tasks:results:${taskId}`;

export function ownerIdOf(principal: Principal): string {
  return ownerColumn(principal).value;
}

/** The seed's invalidation on change: the owner's insights and topic suggestions. */
export async function forgetOwnerCaches(platform: Platform, principal: Principal): Promise<void> {
  await forgetCachesOf(platform, ownerIdOf(principal));
}

export async function forgetCachesOf(platform: Platform, ownerId: string): Promise<void> {
  // A cache that cannot be dropped now expires on its own; the write it follows has committed.
  await platform.kv.del(insightsKey(ownerId), topicSuggestionsKey(ownerId)).catch((error) => {
    platform.logger.warn({ err: error }, "journal caches could not be dropped; they expire on their own");
  });
}
