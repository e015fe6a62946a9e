import type { Database } from "../database/database.ts";
import type { Logger } from "../logging/logger.ts";
import { JOBS_CHANNEL } from "./job-queries.ts";

/**
 * Subscribes to committed enqueues: `onQueue` gets the queue's name.
 * `onResubscribed` is called when listening resumes after a gap (the
 * server's connection dropped and was made again): enqueues in the gap
 * notified nobody, so every worker should look again.
 */
export type WakeUps = (onQueue: (queue: string) => void, onResubscribed?: () => void) => Promise<() => Promise<void>>;

const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * Where the workers hear of new jobs. Embedded: PGlite hands the committed
 * NOTIFY to its callbacks in this process. Server: a connection of its own,
 * outside the pool, holds LISTEN (a pooled one would lose it when returned).
 * If that connection drops (a restart, a failover, an idle-session kill),
 * it is made again with backoff, and workers wake by their fallback timer
 * meanwhile.
 */
export function wakeUpsFor(database: Database, postgresUrl: string | null, logger: Logger): WakeUps {
  const listen = database.listen;
  if (listen) return (onQueue) => listen(JOBS_CHANNEL, onQueue);
  if (!postgresUrl) return async () => async () => {};
  return async (onQueue, onResubscribed) => {
    const { default: pg } = await import("pg");
    let closed = false;
    let client: InstanceType<typeof pg.Client> | null = null;
    let retryTimer: NodeJS.Timeout | undefined;
    let delay = RECONNECT_FIRST_MS;

    const connect = async () => {
      const next = new pg.Client({ connectionString: postgresUrl, application_name: "strata jobs listener" });
      let lost = false;
      let listening = false;
      // Only a connection that was listening is made again from here; one that failed to connect is the
      // caller's to retry.
      const onLost = (error?: Error) => {
        if (lost || closed || !listening) return;
        lost = true;
        logger.warn({ err: error, retryInMs: delay }, "jobs listener connection lost; polling until it is back");
        next.end().catch(() => {});
        schedule();
      };
      next.on("error", onLost);
      next.on("end", () => onLost());
      next.on("notification", (message) => {
        if (message.channel === JOBS_CHANNEL && message.payload) onQueue(message.payload);
      });
      try {
        await next.connect();
        await next.query(`listen ${JOBS_CHANNEL}`);
      } catch (error) {
        next.end().catch(() => {});
        throw error;
      }
      listening = true;
      client = next;
    };
    const schedule = () => {
      retryTimer = setTimeout(() => {
        connect().then(
          () => {
            delay = RECONNECT_FIRST_MS;
            logger.info("jobs listener connection restored");
            onResubscribed?.();
          },
          (error) => {
            if (closed) return;
            delay = Math.min(RECONNECT_MAX_MS, delay * 2);
            logger.warn({ err: error, retryInMs: delay }, "jobs listener could not reconnect");
            schedule();
          },
        );
      }, delay);
      retryTimer.unref();
    };

    await connect();
    return async () => {
      closed = true;
      clearTimeout(retryTimer);
      await client?.end().catch(() => {});
    };
  };
}
