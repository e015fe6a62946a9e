import { Command } from "commander";
import { ConfigError } from "../config/config.ts";
import { DataDirLockedError } from "../runtime/data-dir-lock.ts";
import { DependencyStartError } from "../runtime/dependency-start-error.ts";
import { jobsCommand } from "./commands/jobs.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { seedCommand } from "./commands/seed.ts";
import { serveCommand } from "./commands/serve.ts";
import { workerCommand } from "./commands/worker.ts";
import { ExitCode } from "./exit-codes.ts";
import { ListenError } from "./listen-error.ts";

/**
 * The `strata` command. Every sub-command reads the config once from the
 * environment; a bad value or an unreachable dependency ends it with the
 * variable's or the dependency's name and a non-zero exit.
 *
 * Exit codes (src/cli/exit-codes.ts): 0 success, 78 a configuration value is
 * bad, 69 a dependency cannot be reached at start, 75 the embedded data
 * directory is held by another live process (named), 71 the server cannot
 * listen on its address, 1 anything else.
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
program.addCommand(jobsCommand());
program.addCommand(seedCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Exit now rather than when the event loop drains: a process that cannot
  // start must not linger with timers or half-opened resources running.
  process.exit(reportFatal(error));
}

function reportFatal(error: unknown): number {
  if (error instanceof ConfigError) {
    for (const p of error.problems) process.stderr.write(`strata: configuration error: ${p.variable} ${p.reason}\n`);
    return ExitCode.badConfig;
  }
  if (error instanceof DependencyStartError) {
    process.stderr.write(`strata: cannot start: ${error.message}\n`);
    return ExitCode.dependencyUnavailable;
  }
  if (error instanceof DataDirLockedError) {
    process.stderr.write(`strata: cannot start: ${error.message}\n`);
    return ExitCode.dataDirLocked;
  }
  if (error instanceof ListenError) {
    process.stderr.write(`strata: cannot start: ${error.message}\n`);
    return ExitCode.cannotListen;
  }
  // Anything else is unexpected: the message always, the stack when debugging.
  const verbose = process.env.LOG_LEVEL === "debug" || process.env.LOG_LEVEL === "trace";
  process.stderr.write(
    `strata: ${verbose ? ((error as Error)?.stack ?? error) : ((error as Error)?.message ?? error)}\n`,
  );
  return ExitCode.failure;
}
