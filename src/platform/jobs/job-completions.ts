import type { Kysely } from "kysely";
import type { Tables } from "../database/tables.ts";
import { type ClaimedJob, completeJobs } from "./job-queries.ts";

/** Most jobs one completing statement carries. */
const MOST_PER_STATEMENT = 500;

interface Waiting {
  job: ClaimedJob;
  resolve(completed: boolean): void;
  reject(error: unknown): void;
}

/**
 * Records a queue worker's finished jobs as succeeded once its loop has
 * stopped (while it runs, each of its round trips records them with its
 * claim), gathering the jobs that finish together into one statement
 * without holding any back: a
 * completion is sent at once when none is in flight, and the ones that
 * finish meanwhile go together in the next statement. Each job stays fenced
 * by its own claim's lease version (completeJobs), so a batch completes
 * exactly the jobs whose claims still hold.
 */
export class JobCompletions {
  #waiting: Waiting[] = [];
  #sending = false;

  constructor(private readonly db: Kysely<Tables>) {}

  /** Resolves true once recorded, false when the claim was lost; rejects when the statement failed. */
  complete(job: ClaimedJob): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ job, resolve, reject });
      if (!this.#sending) void this.#send();
    });
  }

  async #send() {
    this.#sending = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, MOST_PER_STATEMENT);
      try {
        const completed = await completeJobs(
          this.db,
          batch.map((w) => w.job),
        );
        for (const w of batch) w.resolve(completed.has(w.job.id));
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    this.#sending = false;
  }
}
