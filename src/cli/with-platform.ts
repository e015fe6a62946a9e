import type { Platform } from "../runtime/platform.ts";

/**
 * Opens the platform for one operator command, runs `fn`, and closes it.
 * The platform and the modules are loaded on use, so `strata --help` stays
 * light. On the embedded profile this takes the data directory's lock: a
 * command run while the server holds it exits at once, naming the holder.
 */
export async function withPlatform(command: string, fn: (platform: Platform) => Promise<void>): Promise<void> {
  const [{ loadConfig }, { modules }, { allMigrations }, { openPlatform }] = await Promise.all([
    import("../config/config.ts"),
    import("../modules/index.ts"),
    import("../runtime/migrations.ts"),
    import("../runtime/platform.ts"),
  ]);
  const platform = await openPlatform(loadConfig(), { command, migrations: allMigrations(modules) });
  try {
    await fn(platform);
  } finally {
    await platform.close();
  }
}
