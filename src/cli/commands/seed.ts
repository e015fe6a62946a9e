import { Command } from "commander";
import type { Platform } from "../../runtime/platform.ts";
import { withPlatform } from "../with-platform.ts";

/**
 * `strata seed`: loads every module's starter data (the knowledge module's
 * rules, practices and templates). Idempotent: run it on every deploy.
 * The embedded profile migrates first, as `strata serve` does; on a server
 * the schema must be up to date (`strata migrate up`). A terminal sees a
 * progress bar per module; anything else one summary line per module.
 */
export function seedCommand() {
  return new Command("seed")
    .description("load the starter data (system rules, practices and templates); safe to run again")
    .action(() => withPlatform("strata seed", seed));
}

async function seed(platform: Platform): Promise<void> {
  const [{ modules }, { createMigrator }, { wireModules }] = await Promise.all([
    import("../../modules/index.ts"),
    import("../../runtime/migrations.ts"),
    import("../../runtime/module-wiring.ts"),
  ]);
  // A seeded entry's text is queued for embedding: the modules' sources must be known.
  wireModules(platform, modules);
  const migrator = createMigrator(platform.database, modules);
  if (platform.config.database.driver === "pglite") await migrator.up();
  const pending = (await migrator.status()).filter((m) => m.state === "pending");
  if (pending.length > 0) {
    throw new Error(`${pending.length} migrations are pending; run \`strata migrate up\` first`);
  }
  const terminal = process.stderr.isTTY === true;
  // A CommonJS package: its exports arrive as the default export.
  const { SingleBar, Presets } = (await import("cli-progress")).default;
  for (const module of modules) {
    if (!module.seed) continue;
    const bar = terminal
      ? new SingleBar(
          { format: `${module.name.padEnd(10)} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true },
          Presets.shades_classic,
        )
      : null;
    let started = false;
    try {
      const outcome = await module.seed(platform, (done, total) => {
        if (!bar) return;
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(done);
      });
      bar?.stop();
      process.stdout.write(
        `${module.name}: ${outcome.added} added, ${outcome.updated} updated, ${outcome.unchanged} unchanged\n`,
      );
    } catch (error) {
      bar?.stop();
      throw error;
    }
  }
}
