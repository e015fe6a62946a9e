import { randomUUID } from "node:crypto";
import { generationsContract } from "../../../test/contract/generations.contract.ts";
import { movableTime } from "../../../test/support/clock.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";

// The in-process store serves one process: both readers share it, and the local twins of the scripts run.
// Marks lapse by the store's clock: the contract moves it rather than waiting.
const time = movableTime();
generationsContract(
  "memory",
  async () => {
    const store = new MemoryKvStore(`test:${randomUUID()}:`, time.clock);
    return { a: store, b: store };
  },
  time,
);
