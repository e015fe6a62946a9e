import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TestClock } from "../../../test/support/clock.ts";
import { TokenSigner } from "./tokens.ts";

describe("access tokens", () => {
  const settings = { issuer: "strata", audience: "strata-api", accessTokenTtlSeconds: 1 };
  const claims = {
    sub: "5b0e8f5e-39c1-4f55-a3a5-0c1d2e3f4a5b",
    sid: "6c1f9a6f-4ad2-4066-b4b6-1d2e3f4a5b6c",
    org: "7d2a0b7a-5be3-4177-85c7-2e3f4a5b6c7d",
  };

  it("answers a repeated verification from memory only until the token expires", async () => {
    // Signed half-way through a second with a 1 s TTL: exp is in whole
    // seconds, so the token dies as the second its TTL ends in begins.
    const clock = new TestClock(1_900_000_000_500);
    const signer = new TokenSigner("a-signing-secret-of-at-least-thirty-two-chars", settings, clock);
    const { token, expiresAt } = await signer.signAccess(claims);
    assert.equal(expiresAt.getTime(), 1_900_000_001_500);
    assert.deepEqual(await signer.verifyAccess(token), { ok: true, claims });
    assert.equal((await signer.verifyAccess(token)).ok, true, "verified again (from memory)");
    clock.advance(499);
    assert.equal((await signer.verifyAccess(token)).ok, true, "the last millisecond before exp");
    clock.advance(1);
    assert.deepEqual(await signer.verifyAccess(token), { ok: false, reason: "expired" }, "from memory");
    const fresh = new TokenSigner("a-signing-secret-of-at-least-thirty-two-chars", settings, clock);
    assert.deepEqual(await fresh.verifyAccess(token), { ok: false, reason: "expired" }, "by jose, remembering nothing");
    clock.advance(-1);
    assert.equal((await fresh.verifyAccess(token)).ok, true, "jose reads the same clock");
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
