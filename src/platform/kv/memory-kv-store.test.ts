import { randomUUID } from "node:crypto";
import { kvStoreContract } from "../../../test/contract/kv-store.contract.ts";
import { movableTime } from "../../../test/support/clock.ts";
import { MemoryKvStore } from "./memory-kv-store.ts";

// TTLs run on the store's clock: the contract moves it rather than waiting.
const time = movableTime();
kvStoreContract("memory", async () => new MemoryKvStore(`test:${randomUUID()}:`, time.clock), time);
