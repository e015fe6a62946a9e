import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WRITING_APP_ORIGIN, writingContract } from "../../../test/contract/writing.contract.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { client } from "../../../test/support/http.ts";
import { buildServer } from "../../http/server.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import { writingModule } from "./index.ts";

writingContract("embedded (PGlite, in-process store, filesystem)", async (aiBaseUrl) => {
  const opened = await openTestPlatform({
    AI_BASE_URL: aiBaseUrl,
    AI_MODEL: "test-model",
    CORS_ORIGINS: WRITING_APP_ORIGIN,
    BODY_LIMIT_BYTES: String(8 * 1024 * 1024),
  });
  return {
    platform: opened.platform,
    dispose: opened.dispose,
    async fetchSigned(url, app) {
      const { pathname, search } = new URL(url);
      const res = await app.inject({ method: "GET", url: pathname + search });
      return { status: res.statusCode, text: res.body };
    },
  };
});

describe("writing module without an AI provider", () => {
  it("answers 503 ai_provider_not_configured for suggestions, and everything else works", async () => {
    const opened = await openTestPlatform();
    try {
      await createMigrator(opened.platform.database, [writingModule]).up();
      const app = await buildServer(opened.platform, [writingModule]);
      const call = client(app);
      const anon = await call("POST", "/v1/auth/anonymous");
      const token = anon.body.accessToken;
      const doc = await call("POST", "/v1/documents", { token, body: { title: "No AI", content: "still works" } });
      assert.equal(doc.status, 201);
      for (const stream of [false, true]) {
        const res = await call("POST", `/v1/documents/${doc.body.id}/suggestions`, {
          token,
          body: { prompt: "Fix.", stream },
        });
        assert.equal(res.status, 503);
        assert.equal(res.body.error.code, "ai_provider_not_configured");
      }
      assert.equal((await call("GET", `/v1/documents/${doc.body.id}`, { token })).body.content, "still works");
      assert.equal((await call("GET", `/v1/documents/${doc.body.id}/versions`, { token })).body.items.length, 1);
      assert.equal((await call("GET", "/ready")).status, 200, "readiness does not depend on the AI provider");
      await app.close();
    } finally {
      await opened.dispose();
    }
  });
});
