import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { blobStoreContract } from "../../../test/contract/blob-store.contract.ts";
import { TestClock } from "../../../test/support/clock.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import type { App } from "../../http/app.ts";
import { buildServer } from "../../http/server.ts";
import type { Platform } from "../../runtime/platform.ts";

// The filesystem store's signed links are served by Strata's own API, so the
// contract runs against a real server built over the same store. Its links
// expire by the platform's clock, which the contract moves.
const clock = new TestClock();
let platform: Platform;
let app: App;
let dispose: () => Promise<void>;

before(async () => {
  const opened = await openTestPlatform({}, { clock });
  platform = opened.platform;
  dispose = opened.dispose;
  app = await buildServer(platform, []);
});

after(async () => {
  await app.close();
  await dispose();
});

async function viaApi(url: string): Promise<Response> {
  const { pathname, search } = new URL(url);
  const res = await app.inject({ method: "GET", url: pathname + search });
  return new Response(res.rawPayload, { status: res.statusCode, headers: res.headers as Record<string, string> });
}

blobStoreContract("filesystem", async () => platform.blobs, {
  passTime: (ms) => clock.advance(ms),
  fetchSigned: viaApi,
});

describe("filesystem signed downloads", () => {
  it("sends the content type, length, checksum and file name", async () => {
    await platform.blobs.put("dl/report.csv", "a,b\n1,2\n", { contentType: "text/csv" });
    const url = await platform.blobs.signedUrl("dl/report.csv", { expiresInSeconds: 60, downloadName: "report.csv" });
    const res = await viaApi(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/csv");
    assert.equal(res.headers.get("content-length"), "8");
    assert.match(res.headers.get("etag") ?? "", /^"[0-9a-f]{64}"$/);
    assert.equal(res.headers.get("content-disposition"), 'attachment; filename="report.csv"');
  });

  it("serves an uploaded page so that it runs nothing, yet lets pages of other origins embed a download", async () => {
    await platform.blobs.put("dl/page.html", "<script>alert(document.domain)</script>", { contentType: "text/html" });
    const res = await viaApi(await platform.blobs.signedUrl("dl/page.html", { expiresInSeconds: 60 }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html");
    assert.match(res.headers.get("content-security-policy") ?? "", /^default-src 'none';/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("cross-origin-resource-policy"), "cross-origin");
    const api = await app.inject("/health");
    assert.equal(api.headers["cross-origin-resource-policy"], "same-origin", "only the download route is relaxed");
  });

  it("answers the error catalog's codes for forged, expired and missing links", async () => {
    const url = new URL(await platform.blobs.signedUrl("dl/none", { expiresInSeconds: 60 }));
    assert.equal(((await (await viaApi(url.toString())).json()) as any).error.code, "blob_not_found");
    url.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 100));
    const forged = await viaApi(url.toString());
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as any).error.code, "signature_invalid");
    const bad = await viaApi("http://strata.test/v1/blob-downloads?key=a&expires=soon&signature=x");
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.details.fields[0].field, "query.expires");
  });
});
