import { writingContract } from "../../../test/contract/writing.contract.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";

writingContract("embedded (PGlite, in-process store, filesystem)", async (aiBaseUrl) => {
  const opened = await openTestPlatform({
    AI_BASE_URL: aiBaseUrl,
    AI_MODEL: "test-model",
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
