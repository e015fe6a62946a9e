import { Command } from "commander";
import { ConfigError } from "../config/config.ts";
import { DependencyStartError } from "../runtime/platform.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { serveCommand } from "./commands/serve.ts";
import { workerCommand } from "./commands/worker.ts";

/**
 * The `strata` command. Every sub-command reads the config once from the
 * environment; a bad value or an unreachable dependency ends it with the
 * variable's or the dependency's name and a non-zero exit.
 */
const program = new Command()
  .name("strata")
  .description("Strata: the data layer for AI applications.")
  .showHelpAfterError()
  .addHelpText(
    "after",
    "\nConfiguration comes from environment variables (see the README). With none set, Strata runs embedded.",
  );

program.addCommand(serveCommand());
program.addCommand(migrateCommand());
program.addCommand(workerCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportFatal(error);
}

function reportFatal(error: unknown): number {
  if (error instanceof ConfigError) {
    for (const p of error.problems) process.stderr.write(`strata: configuration error: ${p.variable} ${p.reason}\n`);
    return 78; // EX_CONFIG
  }
  if (error instanceof DependencyStartError) {
    process.stderr.write(`strata: cannot start: ${error.message}\n`);
    return 69; // EX_UNAVAILABLE
  }
  // Anything else is unexpected: the message always, the stack when debugging.
  const verbose = process.env.LOG_LEVEL === "debug" || process.env.LOG_LEVEL === "trace";
  process.stderr.write(
    `strata: ${verbose ? ((error as Error)?.stack ?? error) : ((error as Error)?.message ?? error)}\n`,
  );
  return 1;
}
