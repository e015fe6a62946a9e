import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenSigner } from "./tokens.ts";

describe("access tokens", () => {
  const settings = { issuer: "strata", audience: "strata-api", accessTokenTtlSeconds: 1 };

  it("answers a repeated verification from memory only until the token expires", async () => {
    const signer = new TokenSigner("a-signing-secret-of-at-least-thirty-two-chars", settings);
    const { token, expiresAt } = await signer.signAccess({ sub: "u", sid: "s", org: "o" });
    assert.deepEqual(await signer.verifyAccess(token), { ok: true, claims: { sub: "u", sid: "s", org: "o" } });
    assert.equal((await signer.verifyAccess(token)).ok, true, "verified again (from memory)");
    // exp is in whole seconds: wait until that second has begun.
    const expSecond = Math.floor(expiresAt.getTime() / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expSecond - Date.now()) + 20));
    assert.deepEqual(await signer.verifyAccess(token), { ok: false, reason: "expired" });
  });

  it("never lets a remembered token vouch for an altered one or for another key", async () => {
    const signer = new TokenSigner("a-signing-secret-of-at-least-thirty-two-chars", settings);
    const { token } = await signer.signAccess({ sub: "u", sid: "s", org: "o" });
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
});
