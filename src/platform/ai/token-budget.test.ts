import { randomUUID } from "node:crypto";
import { aiBudgetContract } from "../../../test/contract/ai-budget.contract.ts";
import { movableTime } from "../../../test/support/clock.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";

// Buckets refill by the store's clock: the contract moves it rather than waiting.
const time = movableTime();
aiBudgetContract("memory", async () => new MemoryKvStore(`test:${randomUUID()}:`, time.clock), time);
