import { randomUUID } from "node:crypto";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { kvStoreContract } from "../contract/kv-store.contract.ts";
import { services } from "../support/services.ts";

kvStoreContract("redis", () => RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`));
