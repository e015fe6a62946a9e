import type { StrataModule } from "./module.ts";
import type { Platform } from "./platform.ts";

/** Modules already wired, per platform, so wiring twice (a server rebuilt in a test) registers nothing twice. */
const wired = new WeakMap<Platform, Set<string>>();

/**
 * Joins the modules' hooks to the platform's services: the
 * ownership-transfer hooks, which registration and login run inside their
 * transaction, and what each module makes searchable. The runtime does this once per process (serve, worker), not
 * the HTTP layer, so identity works the same whichever entry point opened
 * the platform.
 */
export function wireModules(platform: Platform, modules: readonly StrataModule[]): void {
  let names = wired.get(platform);
  if (!names) {
    names = new Set();
    wired.set(platform, names);
  }
  for (const module of modules) {
    if (names.has(module.name)) continue;
    names.add(module.name);
    const hook = module.ownershipTransfer;
    if (hook) platform.identity.transferHooks.register(module.name, (context) => hook.call(module, context, platform));
    for (const source of module.search?.embeddings ?? []) platform.vectors.register(source);
    for (const source of module.search?.sources ?? []) platform.search.register(source);
    for (const topic of module.changeTopics?.(platform) ?? []) platform.changes.registerTopic(topic);
  }
}
