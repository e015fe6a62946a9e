import { randomUUID } from "node:crypto";
import { workerPresenceContract } from "../../../test/contract/worker-presence.contract.ts";
import { MemoryKvStore } from "../../platform/kv/memory-kv-store.ts";

workerPresenceContract("memory", async () => new MemoryKvStore(`test:${randomUUID()}:`));
