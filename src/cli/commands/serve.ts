import { Command } from "commander";

export function serveCommand() {
  return new Command("serve")
    .description(
      "Serve the HTTP API. Embedded: also migrates, and runs the workers and scheduler in this process. " +
        "Server profile: workers run in `strata worker` processes unless --workers is given.",
    )
    .option("--workers", "run the modules' workers in this process too (the embedded profile's default)")
    .option("--no-workers", "do not run workers in this process")
    .action(async (options: { workers?: boolean }) => {
      // Loaded on use, so `strata --help` or `migrate` never load the HTTP stack.
      const { serve } = await import("../actions/serve.ts");
      await serve(options);
    });
}
