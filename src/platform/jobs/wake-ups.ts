import type { Database } from "../database/database.ts";
import type { Logger } from "../logging/logger.ts";
import { JOBS_CHANNEL } from "./job-queries.ts";

/** Subscribes to committed enqueues: `onQueue` gets the queue's name. */
export type WakeUps = (onQueue: (queue: string) => void) => Promise<() => Promise<void>>;

/**
 * Where the workers hear of new jobs. Embedded: PGlite hands the committed
 * NOTIFY to its callbacks in this process. Server: a connection of its own,
 * outside the pool, holds LISTEN (a pooled one would lose it when returned).
 * If that connection drops, workers still wake by their fallback timer.
 */
export function wakeUpsFor(database: Database, postgresUrl: string | null, logger: Logger): WakeUps {
  const listen = database.listen;
  if (listen) return (onQueue) => listen(JOBS_CHANNEL, onQueue);
  if (!postgresUrl) return async () => async () => {};
  return async (onQueue) => {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: postgresUrl, application_name: "strata jobs listener" });
    client.on("error", (error) => logger.warn({ err: error }, "jobs listener connection failed; polling"));
    client.on("notification", (message) => {
      if (message.channel === JOBS_CHANNEL && message.payload) onQueue(message.payload);
    });
    await client.connect();
    await client.query(`listen ${JOBS_CHANNEL}`);
    return async () => {
      await client.end().catch(() => {});
    };
  };
}
