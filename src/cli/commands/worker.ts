import { Command } from "commander";
import { positiveInteger } from "./migrate.ts";

export function workerCommand() {
  return new Command("worker")
    .description("Run the modules' background workers without the HTTP API (scale these apart from API processes).")
    .option(
      "-c, --concurrency <n>",
      "items each module's workers process at once in this process (generation: contexts; default GENERATION_WORKER_CONCURRENCY)",
      positiveInteger,
    )
    .action(async (options: { concurrency?: number }) => {
      const { runWorker } = await import("../actions/worker.ts");
      await runWorker(options.concurrency !== undefined ? { concurrency: options.concurrency } : {});
    });
}
