import { Command, InvalidArgumentError, Option } from "commander";
import { isUuid } from "../../platform/ids.ts";
import { JOB_STATUSES, type JobStatus } from "../../platform/jobs/tables.ts";
import { withPlatform } from "../with-platform.ts";
import { positiveInteger } from "./migrate.ts";

function jobId(value: string): string {
  if (!isUuid(value)) throw new InvalidArgumentError("a job id is a UUID (see `strata jobs list`)");
  return value;
}

const OUTCOME_MESSAGES = {
  not_found: "no such job",
  not_allowed: {
    retry: "only a failed or cancelled job can be retried",
    cancel: "only a pending or running job can be cancelled",
  },
} as const;

/** `strata jobs`: what an operator needs of the job service. */
export function jobsCommand() {
  const jobs = new Command("jobs").description("List, retry or cancel background jobs.");

  jobs
    .command("list")
    .description("jobs newest first: id, queue, status, attempts, due time, last error")
    .option("--queue <name>", "only this queue")
    .addOption(new Option("--status <status>", "only jobs in this status").choices([...JOB_STATUSES]))
    .option("--limit <n>", "how many at most", positiveInteger, 50)
    .action((options: { queue?: string; status?: JobStatus; limit: number }) =>
      withPlatform("strata jobs list", async (platform) => {
        const { listJobs } = await import("../../platform/jobs/job-operations.ts");
        const rows = await listJobs(platform.database.db, options);
        if (rows.length === 0) process.stdout.write("no jobs\n");
        for (const job of rows) {
          const error = job.last_error ? `  ${job.last_error.split("\n")[0]?.slice(0, 120)}` : "";
          process.stdout.write(
            `${job.id}  ${job.queue.padEnd(24)} ${job.status.padEnd(9)} ${job.attempts}/${job.max_attempts}  ${job.run_at.toISOString()}${error}\n`,
          );
        }
      }),
    );

  for (const action of ["retry", "cancel"] as const) {
    jobs
      .command(action)
      .description(
        action === "retry"
          ? "run a failed or cancelled job again, now, with its attempts reset"
          : "cancel a pending or running job (a running worker's further writes are refused)",
      )
      .argument("<id>", "the job's id", jobId)
      .action((id: string) =>
        withPlatform(`strata jobs ${action} ${id}`, async (platform) => {
          const operations = await import("../../platform/jobs/job-operations.ts");
          const outcome = await (action === "retry" ? operations.retryJob : operations.cancelJob)(
            platform.database.db,
            id,
          );
          if (outcome === "done") {
            process.stdout.write(`${action === "retry" ? "retried" : "cancelled"} ${id}\n`);
            return;
          }
          process.stderr.write(
            `${outcome === "not_found" ? OUTCOME_MESSAGES.not_found : OUTCOME_MESSAGES.not_allowed[action]}: ${id}\n`,
          );
          process.exitCode = 1;
        }),
      );
  }
  return jobs;
}
