import { randomUUID } from "node:crypto";
import { generationsContract } from "../../../test/contract/generations.contract.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";

// The in-process store serves one process: both readers share it, and the local twins of the scripts run.
generationsContract("memory", async () => {
  const store = new MemoryKvStore(`test:${randomUUID()}:`);
  return { a: store, b: store };
});
