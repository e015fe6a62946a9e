import { Command } from "commander";

export function workerCommand() {
  return new Command("worker")
    .description("Run the modules' background workers without the HTTP API (scale these apart from API processes).")
    .action(async () => {
      const { runWorker } = await import("../actions/worker.ts");
      await runWorker();
    });
}
