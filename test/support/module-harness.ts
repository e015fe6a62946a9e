import type { App } from "../../src/http/app.ts";
import { buildServer } from "../../src/http/server.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { StrataModule } from "../../src/runtime/module.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { startWorkers } from "../../src/runtime/workers.ts";
import { openTestPlatform } from "./embedded.ts";
import { eventually } from "./eventually.ts";
import { client } from "./http.ts";

/**
 * What a module's tests stand on: an embedded platform (with `env`), the
 * modules migrated, the HTTP server built, and their job workers running
 * unless `workers: false`; `close` undoes it all.
 */
export async function openModuleHarness(
  modules: StrataModule[],
  env: Record<string, string> = {},
  options: { workers?: boolean } = {},
): Promise<{ platform: Platform; app: App; call: ReturnType<typeof client>; close(): Promise<void> }> {
  const opened = await openTestPlatform(env);
  await createMigrator(opened.platform.database, modules).up();
  const app = await buildServer(opened.platform, modules);
  const stopWorkers = options.workers === false ? null : await startWorkers(opened.platform, modules);
  return {
    platform: opened.platform,
    app,
    call: client(app),
    async close() {
      await stopWorkers?.();
      await app.close();
      await opened.dispose();
    },
  };
}

/** Waits until `count` resources of an embedding source have their vectors (the outbox drained); their rows. */
export function embeddedCount(platform: Platform, source: string, count: number, timeoutMs = 30_000) {
  return eventually(
    () => platform.database.db.selectFrom("embeddings").select("resource_id").where("source", "=", source).execute(),
    (rows) => rows.length === count,
    timeoutMs,
  );
}
