import { randomUUID } from "node:crypto";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { aiBudgetContract } from "../contract/ai-budget.contract.ts";
import { serverTime } from "../support/clock.ts";
import { services } from "../support/services.ts";

// Buckets refill by Redis's clock (TIME): the contract waits for it.
aiBudgetContract("redis", () => RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`), serverTime);
