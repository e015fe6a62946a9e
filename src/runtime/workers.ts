import type { StrataModule } from "./module.ts";
import type { Platform } from "./platform.ts";

/** Starts every module's workers; the returned function stops them all, newest first. */
export async function startWorkers(platform: Platform, modules: readonly StrataModule[]): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  const started: string[] = [];
  for (const module of modules) {
    if (!module.startWorkers) continue;
    stops.push(await module.startWorkers(platform));
    started.push(module.name);
  }
  platform.logger.info({ modules: started }, "workers started");
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
