/**
 * THE PLACE FOR THE GENERATION FIGURE of the jobs bench: generation contexts
 * processed per second through a no-op pipeline (no AI call: every step
 * returns at once), with 1, 4 and 16 workers, on the same platforms the job
 * service is measured on (Postgres server and PGlite).
 *
 * Not measured yet. To fill in: make an organization, a no-op pipeline and
 * a backlog of contexts on `platform` (migrated with every module), run the
 * generation workers with each worker count, check every context ended
 * exactly once, and answer contexts per second by worker count. Until then
 * it answers null and the bench says so.
 */
import type { Platform } from "../src/runtime/platform.ts";

/** Contexts per second by worker count, or null while this is not filled in. */
export async function measureGenerationContexts(
  _platform: Platform,
  _contexts: number,
  _workers: readonly number[],
): Promise<Map<number, number> | null> {
  return null;
}
