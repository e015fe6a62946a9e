import type { FastifyReply } from "fastify";
import { isDatabaseOutage } from "../../platform/database/sqlstate.ts";
import type { CopiedRow, KnowledgeCopy } from "./knowledge-copy.ts";

/**
 * A knowledge read that falls back to the local copy when the database
 * cannot answer (its breaker open, unreachable, out of time), and says so:
 * the answer carries `Strata-Stale-Since` (when the copy last matched the
 * database) and `Age` (seconds since then). Without a copy yet, the outage
 * is the answer (503 with Retry-After). Any other failure is not an outage
 * and is thrown as it is.
 */
export async function readOrCopy<T>(
  knowledgeCopy: KnowledgeCopy,
  reply: FastifyReply,
  primary: () => Promise<T>,
  fallback: (rows: readonly CopiedRow[]) => T,
): Promise<T> {
  try {
    return await primary();
  } catch (error) {
    const copy = knowledgeCopy.copy;
    if (!isDatabaseOutage(error) || copy.syncedAt === null) throw error;
    const value = fallback(copy.rows);
    reply.header("strata-stale-since", copy.syncedAt.toISOString());
    reply.header("age", String(Math.floor(copy.ageSeconds() ?? 0)));
    return value;
  }
}

/** The headers a read that may be answered from the copy declares in the API document. */
export const STALE_HEADERS = {
  "strata-stale-since": {
    type: "string",
    description:
      "Present when the database was down and the answer came from the local read-only copy: when that copy last matched the database.",
  },
  age: { type: "integer", description: "With Strata-Stale-Since: the copy's age in seconds." },
} as const;
