import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../errors/app-error.ts";
import { validateBlobKey, validateBlobPrefix } from "./blob-keys.ts";
import { signDownload, verifyDownload } from "./url-signing.ts";

describe("blob keys", () => {
  it("accepts ordinary paths", () => {
    for (const key of ["a", "documents/0191/v3.txt", "x/y=1/z@2~(3)!,+.md"]) assert.equal(validateBlobKey(key), key);
    assert.equal(validateBlobPrefix(""), "");
    assert.equal(validateBlobPrefix("documents/"), "documents/");
  });

  it("refuses traversal, absolute paths, empty segments and odd characters, with the reason", () => {
    const cases: [string, RegExp][] = [
      ["../x", /\. or \.\./],
      ["a/../b", /\. or \.\./],
      ["/etc/passwd", /starts with a slash/],
      ["a//b", /empty segment/],
      ["a/", /empty segment/],
      ["a\\b", /character/],
      ["a\u0000b", /character/],
      ["é", /character/],
      ["x".repeat(1025), /longer than 1024/],
    ];
    for (const [key, reason] of cases) {
      assert.throws(
        () => validateBlobKey(key),
        (e: unknown) =>
          e instanceof AppError && e.code === "invalid_blob_key" && e.statusCode === 400 && reason.test(e.message),
        key,
      );
    }
  });
});

describe("signed download links", () => {
  const secret = "s".repeat(32);
  const download = { key: "a/b", expires: 2_000_000_000, downloadName: "b.txt" };

  it("verifies its own signature and refuses any change", () => {
    const signature = signDownload(secret, download);
    assert.equal(verifyDownload(secret, download, signature, 1_900_000_000), "valid");
    assert.equal(verifyDownload(secret, { ...download, key: "a/c" }, signature, 1_900_000_000), "invalid");
    assert.equal(verifyDownload(secret, { ...download, downloadName: null }, signature, 1_900_000_000), "invalid");
    assert.equal(verifyDownload("t".repeat(32), download, signature, 1_900_000_000), "invalid");
    assert.equal(verifyDownload(secret, download, "short", 1_900_000_000), "invalid");
  });

  it("expires", () => {
    const signature = signDownload(secret, download);
    assert.equal(verifyDownload(secret, download, signature, 2_000_000_001), "expired");
  });
});
