import { Command, InvalidArgumentError } from "commander";
import type { Platform } from "../../runtime/platform.ts";
import { withPlatform } from "../with-platform.ts";

export function migrateCommand() {
  const migrate = new Command("migrate").description("Apply, revert or list database migrations.");

  migrate
    .command("up")
    .description("apply every pending migration, each in its own transaction")
    .action(() =>
      withPlatform("strata migrate up", async (platform) => {
        const run = await (await migrator(platform)).up();
        if (run.applied.length === 0) process.stdout.write("database is up to date\n");
        for (const m of run.applied) process.stdout.write(`applied ${m.version} ${m.name}\n`);
      }),
    );

  migrate
    .command("down")
    .description("revert the most recently applied migrations")
    .argument("[count]", "how many to revert", positiveInteger, 1)
    .action((count: number) =>
      withPlatform(`strata migrate down ${count}`, async (platform) => {
        const run = await (await migrator(platform)).down(count);
        if (run.applied.length === 0) process.stdout.write("nothing to revert\n");
        for (const m of run.applied) process.stdout.write(`reverted ${m.version} ${m.name}\n`);
      }),
    );

  migrate
    .command("status")
    .description("list every migration and whether it is applied")
    .action(() =>
      withPlatform("strata migrate status", async (platform) => {
        for (const m of await (await migrator(platform)).status()) {
          const when = m.appliedAt ? m.appliedAt.toISOString() : "";
          process.stdout.write(`${String(m.version).padStart(5)}  ${m.state.padEnd(8)} ${m.name.padEnd(40)} ${when}\n`);
        }
      }),
    );

  return migrate;
}

// The platform and the modules are loaded on use, so `strata --help` stays light.
async function migrator(platform: Platform) {
  const [{ modules }, { createMigrator }] = await Promise.all([
    import("../../modules/index.ts"),
    import("../../runtime/migrations.ts"),
  ]);
  return createMigrator(platform.database, modules);
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("count must be a positive integer");
  return n;
}
