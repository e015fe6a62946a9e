import { createHash, createHmac, randomBytes, timingSafeEqual, webcrypto } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { LRUCache } from "lru-cache";
import { type Clock, systemClock } from "../clock.ts";
import { isUuid } from "../ids.ts";

/**
 * Token formats.
 *
 * - Access token: a JWT, HS256 only (the algorithm is pinned on verify, so
 *   `alg: none` or an RS/HS confusion is refused), issuer and audience checked,
 *   short-lived. Claims: sub (user id), sid (the user session, i.e. the
 *   refresh-token family), org (the active organization).
 * - Opaque tokens (anonymous sessions `anon_…`, refresh tokens `rt_…`, API
 *   keys `sk_…`): 256 random bits; only their SHA-256 is stored, so a stolen
 *   database does not hand out sessions. The prefix says which kind a bearer
 *   token is before any lookup.
 */

export interface AccessClaims {
  sub: string;
  sid: string;
  org: string;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
}

export class TokenSigner {
  /**
   * The HMAC key, imported once. Given raw bytes, jose imports them into a
   * WebCrypto key on every sign and verify, which was the largest single
   * cost of an authenticated request.
   */
  readonly #key: Promise<webcrypto.CryptoKey>;
  /**
   * Tokens that verified, until they expire. A token's signature and claims
   * cannot change, and the key is fixed for the life of the process, so a
   * second verification of the same string must give the same answer; it
   * costs a WebCrypto HMAC job (a thread-pool round trip) that was the
   * largest CPU cost of a warm authenticated read. Only tokens that passed
   * are kept, so garbage cannot fill it; revocation is checked separately on
   * every request.
   */
  readonly #verified = new LRUCache<string, AccessClaims & { expiresAtMs: number }>({ max: 10_000 });

  constructor(
    signingSecret: string,
    private readonly settings: TokenSettings,
    /** Issues and expires tokens; tests pass one they can move. */
    private readonly clock: Clock = systemClock,
  ) {
    // A key of its own for JWTs, derived from the signing secret, so a link
    // signature can never be replayed as a token or the other way round.
    const raw = createHmac("sha256", signingSecret).update("strata:jwt:v1").digest();
    this.#key = webcrypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  }

  async signAccess(claims: AccessClaims): Promise<{ token: string; expiresAt: Date }> {
    const now = this.clock.now();
    const expiresAt = new Date(now + this.settings.accessTokenTtlSeconds * 1000);
    const token = await new SignJWT({ sid: claims.sid, org: claims.org })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await this.#key);
    return { token, expiresAt };
  }

  /** Verifies an access token; the reason it fails is returned, never thrown. */
  async verifyAccess(
    token: string,
  ): Promise<{ ok: true; claims: AccessClaims } | { ok: false; reason: "expired" | "invalid" }> {
    const known = this.#verified.get(token);
    if (known !== undefined) {
      if (this.clock.now() < known.expiresAtMs)
        return { ok: true, claims: { sub: known.sub, sid: known.sid, org: known.org } };
      this.#verified.delete(token);
      return { ok: false, reason: "expired" };
    }
    try {
      const { payload } = await jwtVerify(token, await this.#key, {
        algorithms: ["HS256"],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        requiredClaims: ["sub", "exp", "iat"],
        currentDate: new Date(this.clock.now()),
      });
      // Validly signed claims that are not ids (a key leaked to another
      // issuer, a token from an older format) are refused here, not by a
      // database cast further on.
      if (!isUuid(payload.sid) || !isUuid(payload.org) || !isUuid(payload.sub)) {
        return { ok: false, reason: "invalid" };
      }
      const claims = { sub: payload.sub as string, sid: payload.sid as string, org: payload.org as string };
      // jose refuses a token at or after its exp (whole seconds).
      this.#verified.set(token, { ...claims, expiresAtMs: (payload.exp as number) * 1000 });
      return { ok: true, claims };
    } catch (error) {
      return { ok: false, reason: error instanceof joseErrors.JWTExpired ? "expired" : "invalid" };
    }
  }
}

export type OpaqueKind = "anon" | "rt" | "sk";

/** A fresh opaque token of the given kind, e.g. `rt_3q2+…`. */
export function newOpaqueToken(kind: OpaqueKind): string {
  return `${kind}_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function opaqueKind(token: string): OpaqueKind | null {
  const prefix = token.slice(0, token.indexOf("_"));
  return prefix === "anon" || prefix === "rt" || prefix === "sk" ? prefix : null;
}
