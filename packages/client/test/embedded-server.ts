import type { AddressInfo } from "node:net";
import { buildServer } from "../../../src/http/server.ts";
import { modules } from "../../../src/modules/index.ts";
import { createMigrator } from "../../../src/runtime/migrations.ts";
import { wireModules } from "../../../src/runtime/module-wiring.ts";
import type { Platform } from "../../../src/runtime/platform.ts";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";

export interface EmbeddedServer {
  /** `http://127.0.0.1:<port>`, what a client's baseUrl is. */
  baseUrl: string;
  platform: Platform;
  /** The loopback AI provider (`failNext` makes it answer errors). */
  ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  /** A fresh loopback client address, sent as X-Forwarded-For, so per-IP limits meet only the tests about them. */
  clientAddress(): string;
  close(): Promise<void>;
}

/**
 * Strata as `strata serve` runs it, listening on a loopback port: an
 * embedded platform (PGlite in memory), every module migrated and wired,
 * and the loopback chat-completions server as its AI provider. The proxy on
 * 127.0.0.1 is trusted, so a test can give each client an address of its own.
 */
export async function startEmbeddedServer(env: Record<string, string> = {}): Promise<EmbeddedServer> {
  const ai = await startChatCompletionsServer();
  const opened = await openTestPlatform({
    AI_BASE_URL: ai.baseUrl,
    AI_MODEL: "test-model",
    TRUST_PROXY: "127.0.0.1",
    ...env,
  });
  const { platform } = opened;
  await createMigrator(platform.database, modules).up();
  wireModules(platform, modules);
  const app = await buildServer(platform, modules);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    platform,
    ai,
    clientAddress: () => `127.${octet()}.${octet()}.${octet()}`,
    async close() {
      await app.close();
      await opened.dispose();
      await ai.stop();
    },
  };
}
