import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSigner } from "./tokens.ts";

describe("access tokens", () => {
  const settings = { issuer: "strata", audience: "strata-api", accessTokenTtlSeconds: 1 };
  const claims = {
    sub: "5b0e8f5e-39c1-4f55-a3a5-0c1d2e3f4a5b",
    sid: "6c1f9a6f-4ad2-4066-b4b6-1d2e3f4a5b6c",
    org: "7d2a0b7a-5be3-4177-85c7-2e3f4a5b6c7d",
  };

  it("answers a repeated verification from memory only until the token expires", async () => {
    const signer = new TokenSigner("a-signing-secret-of-at-least-thirty-two-chars", settings);
    const { token, expiresAt } = await signer.signAccess(claims);
    assert.deepEqual(await signer.verifyAccess(token), { ok: true, claims });
    assert.equal((await signer.verifyAccess(token)).ok, true, "verified again (from memory)");
    // exp is in whole seconds: wait until that second has begun.
    const expSecond = Math.floor(expiresAt.getTime() / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expSecond - Date.now()) + 20));
    assert.deepEqual(await signer.verifyAccess(token), { ok: false, reason: "expired" });
  });

  it("never lets a remembered token vouch for an altered one or for another key", async () => {
    const signer = new TokenSigner("a-signing-secret-of-at-least-thirty-two-chars", settings);
    const { token } = await signer.signAccess(claims);
    assert.equal((await signer.verifyAccess(token)).ok, true);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), sub: "x" }),
    );
    assert.deepEqual(await signer.verifyAccess(`${header}.${forged.toString("base64url")}.${signature}`), {
      ok: false,
      reason: "invalid",
    });
    const other = new TokenSigner("another-signing-secret-of-thirty-two-chars!", settings);
    assert.deepEqual(await other.verifyAccess(token), { ok: false, reason: "invalid" });
  });

  it("refuses a validly signed token whose claims are not ids", async () => {
    const signer = new TokenSigner("a-signing-secret-of-at-least-thirty-two-chars", settings);
    for (const bad of [{ sub: "u" }, { sid: "1 or 1=1" }, { org: "" }]) {
      const { token } = await signer.signAccess({ ...claims, ...bad });
      assert.deepEqual(await signer.verifyAccess(token), { ok: false, reason: "invalid" }, JSON.stringify(bad));
    }
  });
});
