import { randomUUID } from "node:crypto";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { workerPresenceContract } from "../contract/worker-presence.contract.ts";
import { services } from "../support/services.ts";

workerPresenceContract("redis", () => RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`));
