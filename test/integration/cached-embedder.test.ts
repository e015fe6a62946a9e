import { randomUUID } from "node:crypto";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { cachedEmbedderContract } from "../contract/cached-embedder.contract.ts";
import { services } from "../support/services.ts";

cachedEmbedderContract("redis", () => RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`));
