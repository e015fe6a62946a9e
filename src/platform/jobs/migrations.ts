import { sql } from "kysely";
import type { Migration } from "../migrations/migration.ts";

/*
 * The job service's table (jobs.ts). A row is a job from enqueue until an
 * operator or retention removes it: finished jobs stay (succeeded, failed,
 * cancelled) so failures keep their error and attempts, and so a recurring
 * job's slot key keeps refusing a second insert of the same slot.
 */
export const jobsMigrations: Migration[] = [
  {
    version: 3,
    name: "jobs",
    async up(db) {
      await sql`
        create table jobs (
          id uuid primary key default gen_random_uuid(),
          queue text not null check (length(queue) between 1 and 100),
          payload jsonb not null default '{}',
          status text not null default 'pending'
            check (status in ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
          priority integer not null default 0,
          run_at timestamptz(3) not null default now(),
          attempts integer not null default 0 check (attempts >= 0),
          max_attempts integer not null default 5 check (max_attempts >= 1),
          lease_version integer not null default 0,
          locked_by text,
          locked_until timestamptz(3),
          last_error text,
          unique_key text,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          finished_at timestamptz(3)
        )`.execute(db);
      // The claim's scan: due jobs of one queue, most urgent first.
      await sql`create index jobs_pending_idx on jobs (queue, priority desc, run_at) where status = 'pending'`.execute(
        db,
      );
      // Running jobs by lease expiry: per-queue concurrency counts them, the claim takes back expired ones.
      await sql`create index jobs_running_idx on jobs (queue, locked_until) where status = 'running'`.execute(db);
      await sql`create unique index jobs_unique_key on jobs (queue, unique_key) where unique_key is not null`.execute(
        db,
      );
      await sql`create index jobs_finished_idx on jobs (finished_at) where finished_at is not null`.execute(db);
    },
    async down(db) {
      await db.schema.dropTable("jobs").execute();
    },
  },
];
