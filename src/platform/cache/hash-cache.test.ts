import { randomUUID } from "node:crypto";
import { hashCacheContract } from "../../../test/contract/hash-cache.contract.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";

hashCacheContract("memory", async () => new MemoryKvStore(`test:${randomUUID()}:`));
