import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { KvUnavailableError } from "../../src/platform/kv/kv-store.ts";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { kvStoreContract } from "../contract/kv-store.contract.ts";
import { serverTime } from "../support/clock.ts";
import { services } from "../support/services.ts";

// Redis expires keys by its own clock: the contract waits for it.
kvStoreContract("redis", () => RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`), serverTime);

describe("Redis refusing commands", () => {
  it("reports OOM (maxmemory with noeviction) as unavailable, not as a bad command", async () => {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const server = spawn("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--maxmemory",
      "2mb",
      "--maxmemory-policy",
      "noeviction",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    try {
      let kv: RedisKvStore | null = null;
      for (let i = 0; i < 50 && !kv; i++) {
        kv = await RedisKvStore.connect(`redis://127.0.0.1:${port}`, "oom:").catch(() => null);
        if (!kv) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(kv, "the second Redis server started");
      let refusal: unknown = null;
      for (let i = 0; i < 1_000 && !refusal; i++) {
        await kv.set(`fill:${i}`, "x".repeat(10_000)).catch((error) => {
          refusal = error;
        });
      }
      assert.ok(refusal instanceof KvUnavailableError, `got ${String(refusal)}`);
      await kv.close();
    } finally {
      server.kill("SIGKILL");
    }
  });
});
