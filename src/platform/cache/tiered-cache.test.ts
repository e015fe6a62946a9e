import { randomUUID } from "node:crypto";
import { tieredCacheContract } from "../../../test/contract/tiered-cache.contract.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";

// The in-process store serves one process; two Caches over one store stand for two users of its pub/sub.
tieredCacheContract("memory", async () => {
  const store = new MemoryKvStore(`test:${randomUUID()}:`);
  return { a: store, b: store };
});
