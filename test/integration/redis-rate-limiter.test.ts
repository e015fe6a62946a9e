import { randomUUID } from "node:crypto";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { rateLimiterContract } from "../contract/rate-limiter.contract.ts";
import { services } from "../support/services.ts";

rateLimiterContract("redis", () => RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`));
