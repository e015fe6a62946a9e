import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type Kysely, sql } from "kysely";
import type { Database } from "../../src/platform/database/database.ts";
import type { Tables } from "../../src/platform/database/tables.ts";
import { transaction } from "../../src/platform/database/transaction.ts";
import {
  claimJobs,
  completeAndClaimJobs,
  completeJob,
  completeJobs,
  failJob,
} from "../../src/platform/jobs/job-queries.ts";
import { type ClaimExtension, type ClaimedJob, type JobService, LeaseLostError } from "../../src/platform/jobs/jobs.ts";
import { jobsMigrations } from "../../src/platform/jobs/migrations.ts";
import { Migrator } from "../../src/platform/migrations/migrator.ts";
import { platformMigrations } from "../../src/platform/migrations/platform-migrations.ts";
import { until } from "../support/eventually.ts";

/**
 * The job service's contract, the same on PGlite and on the Postgres server.
 * `open` returns an empty database; `service` makes a job service on it.
 */
export function jobsContract(
  name: string,
  open: () => Promise<Database>,
  service: (database: Database, graceMs: number) => JobService,
) {
  describe(`job service contract: ${name}`, () => {
    let database: Database;
    let db: Kysely<Tables>;
    const services: JobService[] = [];
    const make = (graceMs = 5_000) => {
      const s = service(database, graceMs);
      services.push(s);
      return s;
    };
    const jobOf = (id: string) => db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const claimOptions = { limit: 10, leaseMs: 30_000, workerId: "test" };

    before(async () => {
      database = await open();
      db = database.db;
      await new Migrator(db as Kysely<any>, [...platformMigrations, ...jobsMigrations]).up();
    });
    beforeEach(async () => {
      await sql`delete from jobs`.execute(db);
    });
    after(async () => {
      for (const s of services) await s.stop();
      await database.close();
    });

    it("enqueues in the caller's transaction: a job exists exactly when the caller's rows commit", async () => {
      const jobs = make();
      await assert.rejects(
        transaction(db, async (trx) => {
          await jobs.enqueue(trx, { queue: "tx", payload: { n: 1 } });
          throw new Error("the caller's write failed");
        }),
      );
      const kept = await transaction(db, (trx) => jobs.enqueue(trx, { queue: "tx", payload: { n: 2 } }));
      const rows = await db.selectFrom("jobs").select(["id", "payload"]).where("queue", "=", "tx").execute();
      assert.deepEqual(rows, [{ id: kept, payload: { n: 2 } }]);
    });

    it("enqueues many in one statement, a unique key at most once", async () => {
      const jobs = make();
      const ids = await jobs.enqueueMany(db, [
        { queue: "bulk", uniqueKey: "a" },
        { queue: "bulk", uniqueKey: "b" },
        { queue: "bulk" },
      ]);
      assert.equal(ids.length, 3);
      assert.equal(await jobs.enqueue(db, { queue: "bulk", uniqueKey: "a" }), null);
      assert.deepEqual(await jobs.enqueueMany(db, [{ queue: "bulk", uniqueKey: "b" }]), []);
    });

    it("claims due jobs by priority, leaves future ones, and never hands one job to two claims", async () => {
      const jobs = make();
      const [low, high, later] = await jobs.enqueueMany(db, [
        { queue: "order", priority: 0 },
        { queue: "order", priority: 5 },
        { queue: "order", priority: 9, runAt: new Date(Date.now() + 60_000) },
      ]);
      const first = await claimJobs(db, { ...claimOptions, queue: "order", limit: 1 });
      assert.deepEqual(
        first.map((j) => j.id),
        [high],
      );
      const [a, b] = await Promise.all([
        claimJobs(db, { ...claimOptions, queue: "order" }),
        claimJobs(db, { ...claimOptions, queue: "order" }),
      ]);
      assert.deepEqual(
        [...(a ?? []), ...(b ?? [])].map((j) => j.id),
        [low],
      );
      assert.equal((await jobOf(later as string)).status, "pending");
    });

    it("holds a queue's concurrency across claims", async () => {
      const jobs = make();
      await jobs.enqueueMany(
        db,
        Array.from({ length: 5 }, () => ({ queue: "limited" })),
      );
      const claims = await Promise.all(
        [1, 2, 3].map(() => claimJobs(db, { ...claimOptions, queue: "limited", queueConcurrency: 2 })),
      );
      assert.equal(claims.flat().length, 2);
    });

    it("hands back, at once, the jobs a dead process left running, fencing off its claims", async () => {
      const jobs = make();
      const [id] = await jobs.enqueueMany(db, [{ queue: "orphan" }]);
      const [claim] = await claimJobs(db, { ...claimOptions, queue: "orphan" });
      assert.ok(claim);
      assert.equal(await jobs.releaseAbandoned(), 1);
      const row = await jobOf(id as string);
      assert.equal(row.status, "pending");
      assert.equal(row.attempts, 1, "the attempt it was on still counts");
      assert.equal(await completeJob(db, claim), false, "the dead claim's write matches nothing");
      const [again] = await claimJobs(db, { ...claimOptions, queue: "orphan" });
      assert.equal(again?.id, id);
      assert.equal(await jobs.releaseAbandoned(), 1);
      assert.equal(await jobs.releaseAbandoned(), 0);
    });

    it("fences a worker whose lease was lost: its late writes match nothing", async () => {
      const jobs = make();
      const id = await jobs.enqueue(db, { queue: "fence" });
      const [old] = await claimJobs(db, { ...claimOptions, queue: "fence" });
      assert.ok(old);
      // The lease runs out (the worker stalled) and another claim takes the job.
      await sql`update jobs set locked_until = now() - interval '1 second' where id = ${id}`.execute(db);
      const [fresh] = await claimJobs(db, { ...claimOptions, queue: "fence", workerId: "other" });
      assert.ok(fresh);
      assert.equal(fresh.leaseVersion, old.leaseVersion + 1);
      assert.equal(fresh.attempts, 2);
      assert.equal(await completeJob(db, old), false);
      assert.equal(await failJob(db, old, "late", 0), false);
      assert.equal((await jobOf(id as string)).status, "running");
      assert.equal(await completeJob(db, fresh), true);
      assert.equal((await jobOf(id as string)).status, "succeeded");
    });

    it("keeps a job whose lease expired on its last attempt as failed, and takes back one with attempts left", async () => {
      const jobs = make();
      const [last, again] = await jobs.enqueueMany(db, [
        { queue: "expiry", maxAttempts: 1, priority: 1 },
        { queue: "expiry", maxAttempts: 2 },
      ]);
      const first = await claimJobs(db, { ...claimOptions, queue: "expiry" });
      assert.equal(first.length, 2);
      // Both workers died: their leases run out.
      await sql`update jobs set locked_until = now() - interval '1 second' where queue = 'expiry'`.execute(db);
      const second = await claimJobs(db, { ...claimOptions, queue: "expiry", workerId: "other" });
      assert.deepEqual(
        second.map((j) => [j.id, j.attempts]),
        [[again, 2]],
      );
      const failed = await jobOf(last as string);
      assert.equal(failed.status, "failed");
      assert.match(failed.last_error ?? "", /lease expired on its last attempt/);
      assert.ok(failed.finished_at);
    });

    it("completes jobs that finish together in one statement, each fenced by its own claim", async () => {
      const jobs = make();
      await jobs.enqueueMany(
        db,
        Array.from({ length: 3 }, () => ({ queue: "together" })),
      );
      const claimed = await claimJobs(db, { ...claimOptions, queue: "together" });
      assert.equal(claimed.length, 3);
      const [kept, lost, other] = claimed as [ClaimedJob, ClaimedJob, ClaimedJob];
      // An operator changed one job after it was claimed: that claim is fenced off.
      await sql`update jobs set lease_version = lease_version + 1 where id = ${lost.id}`.execute(db);
      const completed = await completeJobs(db, [kept, lost, other]);
      assert.deepEqual([...completed].sort(), [kept.id, other.id].sort());
      assert.equal((await jobOf(kept.id)).status, "succeeded");
      assert.equal((await jobOf(lost.id)).status, "running");
      assert.deepEqual([...(await completeJobs(db, [kept]))], [], "a second completion matches nothing");
    });

    it("records a worker's finished jobs and refills the slots they freed in one round trip", async () => {
      const jobs = make();
      const [first, second, third] = await jobs.enqueueMany(db, [
        { queue: "refill", priority: 3 },
        { queue: "refill", priority: 2 },
        { queue: "refill", priority: 1 },
      ]);
      const held = await claimJobs(db, { ...claimOptions, queue: "refill", queueConcurrency: 2 });
      assert.deepEqual(
        held.map((j) => j.id),
        [first, second],
      );
      const [done, taken] = held as [ClaimedJob, ClaimedJob];
      // An operator changed the second job after it was claimed: that claim cannot complete it.
      await sql`update jobs set lease_version = lease_version + 1 where id = ${taken.id}`.execute(db);
      const result = await completeAndClaimJobs(db, [done, taken], {
        ...claimOptions,
        queue: "refill",
        queueConcurrency: 2,
        limit: 2,
      });
      assert.deepEqual([...result.completed], [first]);
      // The completed job's slot is free in the same statement; the other job still holds one.
      assert.deepEqual(
        result.claimed.map((j) => j.id),
        [third],
      );
      assert.equal((await jobOf(first as string)).status, "succeeded");
      assert.equal((await jobOf(second as string)).status, "running");
    });

    it("runs a queue's claim extension in its claims: effects of the jobs it takes and of those that finished, fenced", async () => {
      // A queue whose jobs each own a row: the claim marks it taken (its data reaches the handler), and a
      // finished job's data is written to it by the claim that records the job.
      await sql`create table if not exists claimed_items (id text primary key, taken_by text, result jsonb)`.execute(
        db,
      );
      await sql`delete from claimed_items`.execute(db);
      const extension: ClaimExtension = {
        name: "contract_items",
        ctes: `taken_items as (
  update claimed_items i set taken_by = $5 from taken where i.id = taken.payload->>'item'
  returning taken.id as job_id, jsonb_build_object('item', i.id, 'takenBy', i.taken_by) as data),
ended_items as (
  update claimed_items i set result = f.data->'result' from completed f where i.id = f.data->>'item'
  returning f.job_id, jsonb_build_object('ended', i.id) as data),
item_rows as (select * from taken_items union all select * from ended_items)`,
        data: "item_rows",
      };
      await sql`insert into claimed_items (id) values ('a'), ('b'), ('c')`.execute(db);
      const jobs = make();
      const ids = await jobs.enqueueMany(db, [
        { queue: "items", payload: { item: "a" }, priority: 3 },
        { queue: "items", payload: { item: "b" }, priority: 2 },
        { queue: "items", payload: { item: "c" }, priority: 1 },
      ]);
      const seen = new Map<string, unknown>();
      const outcomes = new Map<string, unknown>();
      const stop = jobs.work(
        "items",
        async (job) => {
          const { item } = job.job.payload as { item: string };
          seen.set(item, job.job.claimData);
          if (item === "b") {
            // An operator took the job back: its claim no longer holds, and its effect is not written.
            await sql`update jobs set lease_version = lease_version + 1 where id = ${job.job.id}`.execute(db);
          }
          outcomes.set(item, await job.completeInClaim({ item, result: { n: item.charCodeAt(0) } }).catch((e) => e));
        },
        { concurrency: 2, claimWith: extension },
      );
      await until(async () => outcomes.size === 3);
      await stop();
      for (const item of ["a", "b", "c"]) {
        assert.deepEqual(seen.get(item), { item, takenBy: jobs.workerId }, "the claim's data reached the handler");
      }
      assert.deepEqual(outcomes.get("a"), { ended: "a" });
      assert.deepEqual(outcomes.get("c"), { ended: "c" });
      assert.ok(outcomes.get("b") instanceof LeaseLostError, "a lost claim's completion is refused");
      const rows = await sql<{ id: string; result: unknown }>`select id, result from claimed_items order by id`.execute(
        db,
      );
      assert.deepEqual(rows.rows, [
        { id: "a", result: { n: 97 } },
        { id: "b", result: null },
        { id: "c", result: { n: 99 } },
      ]);
      const statuses = await Promise.all((ids as string[]).map(async (id) => (await jobOf(id)).status));
      assert.deepEqual(statuses, ["succeeded", "running", "succeeded"]);
    });

    it("records the jobs that finished beside one whose effects its claim refused, each on its own", async () => {
      await sql`create table if not exists claimed_numbers (id text primary key, n integer)`.execute(db);
      await sql`delete from claimed_numbers`.execute(db);
      await sql`insert into claimed_numbers (id) values ('good'), ('bad')`.execute(db);
      const extension: ClaimExtension = {
        name: "contract_numbers",
        ctes: `ended_numbers as (
  update claimed_numbers t set n = (f.data->>'n')::integer from completed f where t.id = f.data->>'item'
  returning f.job_id, jsonb_build_object('n', t.n) as data)`,
        data: "ended_numbers",
      };
      const jobs = make();
      const [good, bad] = (await jobs.enqueueMany(db, [
        { queue: "numbers", payload: { item: "good" }, maxAttempts: 1 },
        { queue: "numbers", payload: { item: "bad" }, maxAttempts: 1 },
      ])) as [string, string];
      const outcomes = new Map<string, unknown>();
      const stop = jobs.work(
        "numbers",
        async (job) => {
          const { item } = job.job.payload as { item: string };
          // Both finish in one turn, so one claim statement carries both; "bad" cannot be stored.
          const outcome = await job.completeInClaim({ item, n: item === "bad" ? "not a number" : 7 }).catch((e) => e);
          outcomes.set(item, outcome);
          if (outcome instanceof Error) throw outcome;
        },
        { concurrency: 2, claimWith: extension },
      );
      await until(async () => outcomes.size === 2 && (await jobOf(bad)).status === "failed");
      await stop();
      assert.deepEqual(outcomes.get("good"), { n: 7 });
      assert.ok(outcomes.get("bad") instanceof Error && !(outcomes.get("bad") instanceof LeaseLostError));
      assert.equal((await jobOf(good)).status, "succeeded");
      const rows = await sql<{ id: string; n: number | null }>`select id, n from claimed_numbers order by id`.execute(
        db,
      );
      assert.deepEqual(rows.rows, [
        { id: "bad", n: null },
        { id: "good", n: 7 },
      ]);
    });

    it("records a completion made in a claim after its worker stopped claiming, with its extension", async () => {
      await sql`create table if not exists claimed_items (id text primary key, taken_by text, result jsonb)`.execute(
        db,
      );
      await sql`delete from claimed_items`.execute(db);
      await sql`insert into claimed_items (id) values ('late')`.execute(db);
      const extension: ClaimExtension = {
        name: "contract_late_items",
        ctes: `ended_items as (
  update claimed_items i set result = f.data->'result' from completed f where i.id = f.data->>'item'
  returning f.job_id, jsonb_build_object('ended', i.id) as data)`,
        data: "ended_items",
      };
      const jobs = make();
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let outcome: unknown = null;
      const stop = jobs.work(
        "late_items",
        async (job) => {
          await gate;
          outcome = await job.completeInClaim({ item: "late", result: "kept" });
        },
        { claimWith: extension },
      );
      const id = (await jobs.enqueue(db, { queue: "late_items" })) as string;
      await until(async () => (await jobOf(id)).status === "running");
      // The worker stops claiming while the handler still runs; its completion is recorded on its own.
      const stopped = stop();
      release();
      await stopped;
      assert.deepEqual(outcome, { ended: "late" });
      assert.equal((await jobOf(id)).status, "succeeded");
      const row = await sql<{ result: unknown }>`select result from claimed_items where id = 'late'`.execute(db);
      assert.deepEqual(row.rows[0]?.result, "kept");
    });

    for (const capped of [false, true]) {
      it(`runs every job of a backlog once across processes${capped ? ", never more at once than the queue's concurrency" : ", each within its own concurrency"}`, async () => {
        const queue = capped ? "busy_capped" : "busy";
        const services = [make(), make()];
        const ids = await services[0]?.enqueueMany(
          db,
          Array.from({ length: 120 }, () => ({ queue })),
        );
        const runs = new Map<string, number>();
        let running = 0;
        let most = 0;
        const stops = (services as JobService[]).map((s) =>
          s.work(
            queue,
            async ({ job }) => {
              running++;
              most = Math.max(most, running);
              runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
              await new Promise((r) => setTimeout(r, 1));
              running--;
            },
            capped ? { concurrency: 4, queueConcurrency: 4 } : { concurrency: 4 },
          ),
        );
        await until(async () => {
          const row = await db
            .selectFrom("jobs")
            .select((eb) => eb.fn.countAll<string>().as("n"))
            .where("queue", "=", queue)
            .where("status", "=", "succeeded")
            .executeTakeFirstOrThrow();
          return Number(row.n) === 120;
        }, 20_000);
        for (const stop of stops) await stop();
        assert.deepEqual([...runs.keys()].sort(), [...(ids ?? [])].sort());
        assert.ok(
          [...runs.values()].every((n) => n === 1),
          "no job ran twice",
        );
        const bound = capped ? 4 : 8;
        assert.ok(most <= bound, `at most ${bound} at once across both processes (saw ${most})`);
      });
    }

    it("runs a handler, rejecting its transaction's writes once its lease is lost", async () => {
      const jobs = make();
      await sql`create table if not exists job_effects (job_id uuid primary key)`.execute(db);
      let outcome: unknown = null;
      const stop = jobs.work("fenced", async ({ job, fence }) => {
        // Another claim replaces this one before the handler writes.
        await sql`update jobs set lease_version = lease_version + 1 where id = ${job.id}`.execute(db);
        outcome = await transaction(db, async (trx) => {
          await sql`insert into job_effects values (${job.id})`.execute(trx);
          await fence(trx);
        }).catch((error) => error);
      });
      const id = await jobs.enqueue(db, { queue: "fenced" });
      await until(async () => outcome !== null);
      await stop();
      assert.ok(outcome instanceof LeaseLostError);
      const effects = await sql`select * from job_effects where job_id = ${id}`.execute(db);
      assert.equal(effects.rows.length, 0, "the fenced transaction rolled back");
      assert.equal((await jobOf(id as string)).status, "running", "the stale claim recorded nothing");
    });

    it("retries with backoff, then keeps the job as failed with its error and attempts", async () => {
      const jobs = make();
      const runs: number[] = [];
      const stop = jobs.work(
        "flaky",
        async ({ job }) => {
          runs.push(job.attempts);
          throw new Error(`boom ${job.attempts}`);
        },
        { backoff: { baseMs: 50, maxMs: 100 }, idleMs: 1_000 },
      );
      const id = (await jobs.enqueue(db, { queue: "flaky", maxAttempts: 3 })) as string;
      await until(async () => (await jobOf(id)).status === "failed");
      await stop();
      const row = await jobOf(id);
      assert.deepEqual(runs, [1, 2, 3]);
      assert.equal(row.attempts, 3);
      assert.match(row.last_error ?? "", /boom 3/);
      assert.ok(row.finished_at);
    });

    it("wakes an idle worker on enqueue instead of waiting for its timer", async () => {
      const jobs = make();
      const done: string[] = [];
      const stop = jobs.work(
        "wake",
        async ({ job }) => {
          done.push(job.id);
        },
        { idleMs: 60_000 },
      );
      // Let the worker find the queue empty and go to sleep.
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const id = await transaction(db, (trx) => jobs.enqueue(trx, { queue: "wake" }));
      await until(async () => done.includes(id as string), 3_000);
      assert.ok(Date.now() - started < 3_000);
      await until(async () => (await jobOf(id as string)).status === "succeeded");
      await stop();
    });

    it("fires a recurring job once per slot across processes, with bounded catch-up", async () => {
      const clock = { now: () => Date.parse("2026-03-01T12:07:30Z") };
      const stops = [make(), make()].map((s) =>
        s.schedule("cron", "*/5 * * * *", { catchUpMs: 3_600_000, maxCatchUp: 2, clock }),
      );
      await new Promise((r) => setTimeout(r, 300));
      for (const stop of stops) await stop();
      const rows = await db
        .selectFrom("jobs")
        .select("unique_key")
        .where("queue", "=", "cron")
        .orderBy("run_at")
        .execute();
      assert.deepEqual(
        rows.map((r) => r.unique_key),
        ["cron:2026-03-01T12:00:00.000Z", "cron:2026-03-01T12:05:00.000Z"],
      );
    });

    it("runs a recurring task once per slot across processes, and prunes finished jobs after their keeping time", async () => {
      const ran: string[] = [];
      const services = [make(), make()];
      const stops = services.map((s, i) =>
        s.recurring("every_second", "* * * * * *", async () => {
          ran.push(`process ${i}`);
        }),
      );
      await until(async () => ran.length >= 3, 10_000);
      for (const stop of stops) await stop();
      const slots = await db
        .selectFrom("jobs")
        .select(["unique_key", "status"])
        .where("queue", "=", "every_second")
        .execute();
      // Every run was one slot's job, and no slot has two jobs.
      assert.equal(new Set(slots.map((r) => r.unique_key)).size, slots.length);
      assert.equal(slots.filter((r) => r.status === "succeeded").length, ran.length);

      const day = 24 * 60 * 60_000;
      assert.equal(await services[0]?.prune(Date.now() + day - 60_000), 0, "kept for a day");
      assert.equal(await services[0]?.prune(Date.now() + day + 60_000), ran.length);
    });

    it("on stop, lets running work finish within the grace period and hands back what does not", async () => {
      const quick = make(2_000);
      let finished = false;
      const stopQuick = quick.work("graceful", async () => {
        await new Promise((r) => setTimeout(r, 100));
        finished = true;
      });
      const a = (await quick.enqueue(db, { queue: "graceful" })) as string;
      await until(async () => (await jobOf(a)).status === "running");
      await stopQuick();
      assert.ok(finished);
      assert.equal((await jobOf(a)).status, "succeeded");

      const slow = make(100);
      let aborted = false;
      const stopSlow = slow.work("stuck", async ({ signal }) => {
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          }),
        );
      });
      const b = (await slow.enqueue(db, { queue: "stuck" })) as string;
      await until(async () => (await jobOf(b)).status === "running");
      const started = Date.now();
      await stopSlow();
      assert.ok(Date.now() - started < 1_500, "within the grace period");
      assert.ok(aborted);
      const row = await jobOf(b);
      assert.equal(row.status, "pending");
      assert.equal(row.attempts, 0, "a released attempt does not count");
    });

    it("on stop, tells a handler made of steps, which hands its job back at its next step without the grace period", async () => {
      // A grace no test waits out: the stop below returns only because the handler ends early.
      const stepping = make(10 * 60_000);
      let steps = 0;
      let abortedAtEnd: boolean | null = null;
      const stopStepping = stepping.work("stepping", async ({ signal, stopping }) => {
        try {
          for (;;) {
            stopping.throwIfAborted();
            steps++;
            await new Promise((r) => setTimeout(r, 10));
          }
        } finally {
          abortedAtEnd = signal.aborted;
        }
      });
      const c = (await stepping.enqueue(db, { queue: "stepping" })) as string;
      await until(async () => steps > 2);
      await stopStepping();
      assert.equal(abortedAtEnd, false, "it ended on being told, before any abort");
      const row = await jobOf(c);
      assert.equal(row.status, "pending", "handed back, not failed");
      assert.equal(row.attempts, 0, "a handed-back attempt does not count");
      assert.equal(row.last_error, null);
    });
  });
}
