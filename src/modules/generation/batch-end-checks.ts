import type { Kysely } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import type { Logger } from "../../platform/logging/logger.ts";
import { endBatchIfDone } from "./batch-progress.ts";

/** How long a batch's end check waits for more of its contexts to end first. */
const CHECK_DELAY_MS = 25;

interface Check {
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  /** A context ended while the check ran: its commit may be newer than the check's snapshot. */
  again: boolean;
}

/**
 * A worker process's checks of whether batches have ended (endBatchIfDone),
 * each a little after the contexts that asked for it, so one check answers
 * for all the contexts of a batch that ended meanwhile instead of one
 * statement per context. What keeps a batch from being left unended is
 * that every context's end is followed by a check whose snapshot is newer
 * than its commit (of two contexts ending together in two processes, the
 * later check sees both): a check asked for while one runs is made again
 * after it.
 */
export class BatchEndChecks {
  readonly #checks = new Map<string, Check>();

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly logger: Logger,
  ) {}

  /** Call once a context of the batch has ended (its end committed). */
  ask(batchId: string): void {
    const check = this.#checks.get(batchId);
    if (!check) {
      this.#checks.set(batchId, { timer: this.#schedule(batchId), running: null, again: false });
    } else if (check.running) {
      check.again = true;
    }
    // Otherwise a check is scheduled and has not begun: it will see this end.
  }

  /** Makes the checks still waiting now, and waits for every check to finish. */
  async flush(): Promise<void> {
    while (this.#checks.size > 0) {
      await Promise.all(
        [...this.#checks.entries()].map(([batchId, check]) => {
          if (check.timer) {
            clearTimeout(check.timer);
            check.timer = null;
            return this.#run(batchId, check);
          }
          return check.running;
        }),
      );
    }
  }

  #schedule(batchId: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const check = this.#checks.get(batchId);
      if (!check) return;
      check.timer = null;
      void this.#run(batchId, check);
    }, CHECK_DELAY_MS);
    timer.unref();
    return timer;
  }

  #run(batchId: string, check: Check): Promise<void> {
    check.running = endBatchIfDone(this.db, batchId)
      .catch((error) => {
        // Its next read mends a batch whose end was missed (batches.ts); a later context's end checks again.
        this.logger.warn({ err: error, batchId }, "checking a batch's end failed");
      })
      .finally(() => {
        check.running = null;
        if (check.again) {
          check.again = false;
          check.timer = this.#schedule(batchId);
        } else {
          this.#checks.delete(batchId);
        }
      });
    return check.running;
  }
}
