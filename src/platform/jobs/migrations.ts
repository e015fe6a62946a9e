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
  /*
   * A worker's round trip (job-queries.ts completeAndClaimJobs): records the
   * jobs it finished, then claims more. Completing first lets the claim count
   * the slots those jobs freed; each is completed only while its own claim
   * holds (its lease_version), so a job is completed once at most.
   *
   * A queue with a queue concurrency (null: none) takes turns: its advisory
   * lock makes claims of the queue wait for each other, so counting its live
   * leases and taking more cannot race past it; the count must then be read
   * in a snapshot taken after the lock was granted, so the lock is its own
   * statement. In a volatile PL/pgSQL function each statement takes a fresh
   * snapshot (read committed) and the lock is held until the calling
   * statement's transaction commits: the worker needs no client transaction
   * (begin, lock, count, claim and commit were five round trips, and each
   * completion one more). Without a queue concurrency there is no lock and
   * no count (the CASE never runs its subquery).
   *
   * The claim: keeps as failed the running jobs whose lease expired on their
   * last attempt, counts the queue's live leases, and leases the most urgent
   * due jobs that fit (pending ones whose time has come, running ones whose
   * lease expired with attempts left), raising each one's lease_version. Due
   * jobs are found in two index-ordered branches rather than one `or`, which
   * no partial index serves (that form sorted the whole backlog on every
   * claim). Jobs of equal priority and run_at (one multi-row enqueue shares
   * its run_at) go in index order. Every CTE sees the statement's one
   * snapshot; the failed rows and the reclaimed ones are disjoint (attempts
   * left or not). FOR UPDATE SKIP LOCKED keeps claims off rows another
   * transaction holds (an operator's retry or cancel). The lock's key is the
   * one claims used before this function, so processes of both builds still
   * take turns.
   */
  {
    version: 4,
    name: "jobs_complete_and_claim",
    async up(db) {
      // Inline, so the database image's fingerprint (each up's text) covers it.
      await sql`
        create function strata_claim_jobs(
          claim_queue text, claim_limit integer, queue_concurrency integer, lease_seconds double precision, worker_id text,
          finished_ids uuid[], finished_lease_versions integer[])
        returns table (
          claimed boolean, id uuid, queue text, payload jsonb, attempts integer, max_attempts integer, lease_version integer)
        language plpgsql volatile as $$
        #variable_conflict use_column
        begin
          return query
          with completed as (
            update jobs set status = 'succeeded', finished_at = now(), updated_at = now(), locked_by = null,
              locked_until = null
            from unnest(finished_ids, finished_lease_versions) as finished(id, lease_version)
            where jobs.id = any(finished_ids) and jobs.id = finished.id and jobs.lease_version = finished.lease_version
              and jobs.status = 'running'
            returning jobs.id)
          select false, completed.id, null::text, null::jsonb, null::integer, null::integer, null::integer
          from completed;
          if claim_limit <= 0 then
            return;
          end if;
          if queue_concurrency is not null then
            perform pg_advisory_xact_lock(hashtext('strata_jobs:' || claim_queue));
          end if;
          return query
          with lost as (
            update jobs set status = 'failed',
              last_error = coalesce(last_error || E'\\n', '') || 'lease expired on its last attempt',
              finished_at = now(), updated_at = now(), locked_by = null, locked_until = null
            where jobs.queue = claim_queue and status = 'running' and locked_until < now() and attempts >= max_attempts
            returning jobs.id),
          room as (
            select case when queue_concurrency is null then claim_limit
              else greatest(0, least(claim_limit, queue_concurrency - (
                select count(*)::integer from jobs
                where jobs.queue = claim_queue and status = 'running' and locked_until >= now())))
              end as n),
          pending as (
            select jobs.id, priority, run_at from jobs
            where jobs.queue = claim_queue and status = 'pending' and run_at <= now()
            order by priority desc, run_at
            limit (select n from room)
            for update skip locked),
          expired as (
            select jobs.id, priority, run_at from jobs
            where jobs.queue = claim_queue and status = 'running' and locked_until < now() and attempts < max_attempts
            order by priority desc, run_at
            limit (select n from room)
            for update skip locked)
          update jobs set status = 'running', attempts = jobs.attempts + 1, lease_version = jobs.lease_version + 1,
            locked_by = worker_id, locked_until = now() + make_interval(secs => lease_seconds), updated_at = now()
          where jobs.id = any(array(
            select due.id from (select * from pending union all select * from expired) due
            order by due.priority desc, due.run_at
            limit (select n from room)))
          returning true, jobs.id, jobs.queue, jobs.payload, jobs.attempts, jobs.max_attempts, jobs.lease_version;
        end
        $$`.execute(db);
    },
    async down(db) {
      await sql`drop function strata_claim_jobs(text, integer, integer, double precision, text, uuid[], integer[])`.execute(
        db,
      );
    },
  },
];
