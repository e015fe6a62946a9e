import { randomUUID } from "node:crypto";
import { cachedEmbedderContract } from "../../../test/contract/cached-embedder.contract.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";

cachedEmbedderContract("memory", async () => new MemoryKvStore(`test:${randomUUID()}:`));
