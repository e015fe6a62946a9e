import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Config, loadConfig } from "../../src/config/config.ts";
import type { Clock } from "../../src/platform/clock.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { openPlatform, type Platform } from "../../src/runtime/platform.ts";

/**
 * An embedded platform for a test: PGlite in memory (no files to clean), the
 * in-process key-value store, and a filesystem blob store in a temp folder.
 * `env` adds or overrides variables, e.g. REDIS_URL for a mixed profile;
 * `options.clock` replaces the system clock (a TestClock, to move time).
 */
export async function openTestPlatform(
  env: Record<string, string> = {},
  options: { clock?: Clock } = {},
): Promise<{ platform: Platform; config: Readonly<Config>; dispose(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-test-"));
  const loaded = loadConfig({ STRATA_DATA_DIR: dir, PUBLIC_URL: "http://strata.test", LOG_LEVEL: "silent", ...env });
  const config: Config = {
    ...loaded,
    database: loaded.database.driver === "pglite" ? { ...loaded.database, dataDir: null } : loaded.database,
  };
  const platform = await openPlatform(config, { logger: createLogger("silent"), ...options });
  return {
    platform,
    config,
    async dispose() {
      await platform.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
