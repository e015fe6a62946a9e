import { randomUUID } from "node:crypto";
import { generationCachesContract } from "../contract/generation-caches.contract.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";

generationCachesContract("server (Postgres, Redis)", async () => {
  const scratch = await createScratchDatabase();
  const opened = await openTestPlatform({
    DATABASE_URL: scratch.url,
    STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
    REDIS_URL: services.redisUrl,
    KV_KEY_PREFIX: `test:${randomUUID()}:`,
  });
  return {
    platform: opened.platform,
    async dispose() {
      await opened.dispose();
      await scratch.drop();
    },
  };
});
