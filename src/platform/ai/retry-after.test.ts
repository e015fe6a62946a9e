import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryAfterMs } from "./retry-after.ts";

describe("a 429's Retry-After", () => {
  const now = Date.parse("2030-01-01T00:00:00Z");
  const headers = (values: Record<string, string>) => new Headers(values);

  it("reads delay-seconds, fractions included", () => {
    assert.equal(retryAfterMs(headers({ "retry-after": "20" }), now), 20_000);
    assert.equal(retryAfterMs(headers({ "retry-after": "0.5" }), now), 500);
    assert.equal(retryAfterMs(headers({ "retry-after": "0" }), now), 0);
  });

  it("reads an HTTP date, counted from now, and a past one as no wait", () => {
    assert.equal(retryAfterMs(headers({ "retry-after": "Tue, 01 Jan 2030 00:00:30 GMT" }), now), 30_000);
    assert.equal(retryAfterMs(headers({ "retry-after": "Mon, 31 Dec 2029 23:59:00 GMT" }), now), 0);
  });

  it("prefers retry-after-ms, the more precise", () => {
    assert.equal(retryAfterMs(headers({ "retry-after-ms": "1500", "retry-after": "2" }), now), 1_500);
    assert.equal(retryAfterMs(headers({ "retry-after-ms": "soon", "retry-after": "2" }), now), 2_000);
  });

  it("is null when no usable time is named", () => {
    assert.equal(retryAfterMs(undefined, now), null);
    assert.equal(retryAfterMs(headers({}), now), null);
    assert.equal(retryAfterMs(headers({ "retry-after": "later" }), now), null);
    assert.equal(retryAfterMs(headers({ "retry-after": "-5" }), now), null);
    assert.equal(retryAfterMs(headers({ "retry-after": "2030" }), now), 2_030_000, "a bare number is seconds");
  });
});
