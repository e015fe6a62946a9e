import { Command } from "commander";

export function serveCommand() {
  return new Command("serve")
    .description("Serve the HTTP API. Embedded: also migrates, and runs the workers and scheduler in this process.")
    .option("--no-workers", "do not run workers in this process (server profile: run `strata worker` instead)")
    .action(async (options: { workers: boolean }) => {
      // Loaded on use, so `strata --help` or `migrate` never load the HTTP stack.
      const { serve } = await import("../actions/serve.ts");
      await serve(options);
    });
}
