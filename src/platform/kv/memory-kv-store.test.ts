import { randomUUID } from "node:crypto";
import { kvStoreContract } from "../../../test/contract/kv-store.contract.ts";
import { MemoryKvStore } from "./memory-kv-store.ts";

kvStoreContract("memory", async () => new MemoryKvStore(`test:${randomUUID()}:`));
