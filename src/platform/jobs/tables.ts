import type { ColumnType, Generated } from "kysely";
import type { Json, NullableTimestamp, Timestamp } from "../database/column-types.ts";

/** The job service's table (migration 3). */

export const JOB_STATUSES = ["pending", "running", "succeeded", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobsTable {
  id: Generated<string>;
  queue: string;
  payload: Json<unknown>;
  status: ColumnType<JobStatus, JobStatus | undefined, JobStatus>;
  priority: ColumnType<number, number | undefined, number>;
  run_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: ColumnType<number, number | undefined, number>;
  /** The fencing version: raised by every claim, so a write from an older claim matches nothing. */
  lease_version: ColumnType<number, number | undefined, number>;
  locked_by: ColumnType<string | null, string | null | undefined, string | null>;
  locked_until: NullableTimestamp;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  unique_key: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: NullableTimestamp;
}

declare module "../database/tables.ts" {
  interface Tables {
    jobs: JobsTable;
  }
}
