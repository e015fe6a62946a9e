import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { BlobNotFoundError, type BlobStore } from "../../src/platform/blobs/blob-store.ts";
import { AppError } from "../../src/platform/errors/app-error.ts";

/**
 * The contract every BlobStore passes, unchanged. Each run works under a
 * fresh prefix, so runs against a shared bucket never meet.
 */
export interface BlobContractOptions {
  /**
   * Moves time on for signed links' expiry: the embedded store's links are
   * checked by Strata itself against the platform's clock, which a test
   * moves; an S3 server checks them against its own clock, so there it waits.
   */
  passTime(ms: number): Promise<void> | void;
  /**
   * Set where the server behind the store accepts any signature (the local
   * S3 test server does; S3 itself does not): the check that a forged link
   * is refused cannot run there and is reported as skipped with this reason,
   * rather than passing without checking anything.
   */
  acceptsForgedSignatures?: string;
  /** Fetches a signed URL (the embedded store's links are served by Strata's own API). */
  fetchSigned?: (url: string) => Promise<Response>;
}

export function blobStoreContract(name: string, open: () => Promise<BlobStore>, options: BlobContractOptions) {
  const fetchSigned = options.fetchSigned ?? ((url: string) => fetch(url));
  describe(`BlobStore contract: ${name}`, () => {
    let blobs: BlobStore;
    const root = `contract-${randomUUID()}`;
    const k = (key: string) => `${root}/${key}`;
    before(async () => {
      blobs = await open();
    });
    after(async () => {
      await blobs.close();
    });

    it("puts and gets content with its metadata and checksum", async () => {
      const info = await blobs.put(k("docs/a.txt"), "hello world", {
        contentType: "text/plain",
        metadata: { owner: "u1" },
      });
      assert.equal(info.size, 11);
      assert.equal(info.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
      assert.equal(info.contentType, "text/plain");
      const { info: got, body } = await blobs.get(k("docs/a.txt"));
      assert.equal(await text(body), "hello world");
      assert.equal(got.size, 11);
      assert.equal(got.sha256, info.sha256);
      assert.deepEqual(got.metadata, { owner: "u1" });
      assert.ok(got.lastModified instanceof Date);
    });

    it("a put of a derived copy (durability cache) reads back whole, with its metadata, and overwrites", async () => {
      await blobs.put(k("docs/cache.txt"), "first copy", { durability: "cache" });
      const info = await blobs.put(k("docs/cache.txt"), "second copy", {
        contentType: "text/plain",
        metadata: { derived: "yes" },
        durability: "cache",
      });
      const { info: got, body } = await blobs.get(k("docs/cache.txt"));
      assert.equal(await text(body), "second copy");
      assert.equal(got.sha256, info.sha256);
      assert.deepEqual(got.metadata, { derived: "yes" });
    });

    it("streams a large body in and out", async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const info = await blobs.put(k("big/bin"), Readable.from(chunks(data, 64 * 1024)));
      assert.equal(info.size, data.length);
      assert.equal(info.contentType, "application/octet-stream");
      const { body } = await blobs.get(k("big/bin"));
      assert.ok(Buffer.concat(await collect(body)).equals(data));
    });

    it("stores an empty blob", async () => {
      const info = await blobs.put(k("empty"), Buffer.alloc(0));
      assert.equal(info.size, 0);
      assert.equal(await text((await blobs.get(k("empty"))).body), "");
    });

    it("overwrites atomically", async () => {
      await blobs.put(k("over"), "first");
      await blobs.put(k("over"), "second version");
      const head = await blobs.head(k("over"));
      assert.equal(head?.size, 14);
      assert.equal(await text((await blobs.get(k("over"))).body), "second version");
    });

    it("heads and deletes, idempotently", async () => {
      await blobs.put(k("del/x"), "x");
      assert.equal((await blobs.head(k("del/x")))?.size, 1);
      await blobs.delete(k("del/x"));
      assert.equal(await blobs.head(k("del/x")), null);
      await blobs.delete(k("del/x"));
      await assert.rejects(blobs.get(k("del/x")), BlobNotFoundError);
    });

    it("keeps a key and a longer key under it apart", async () => {
      await blobs.put(k("nest"), "parent");
      await blobs.put(k("nest/child"), "child");
      assert.equal(await text((await blobs.get(k("nest"))).body), "parent");
      assert.equal(await text((await blobs.get(k("nest/child"))).body), "child");
    });

    it("copies content and metadata", async () => {
      await blobs.put(k("copy/src"), "copied", { contentType: "text/markdown", metadata: { v: "1" } });
      const info = await blobs.copy(k("copy/src"), k("copy/dst"));
      assert.equal(info.size, 6);
      assert.equal(info.contentType, "text/markdown");
      assert.deepEqual(info.metadata, { v: "1" });
      assert.equal(await text((await blobs.get(k("copy/dst"))).body), "copied");
      await assert.rejects(blobs.copy(k("copy/none"), k("copy/x")), BlobNotFoundError);
    });

    it("lists by prefix in key order, a page at a time", async () => {
      for (const name of ["c", "a", "b", "d/e"]) await blobs.put(k(`list/${name}`), name);
      await blobs.put(k("listing-other"), "not me");
      const first = await blobs.list(k("list/"), { limit: 2 });
      assert.deepEqual(
        first.items.map((i) => i.key),
        [k("list/a"), k("list/b")],
      );
      assert.ok(first.nextCursor);
      const second = await blobs.list(k("list/"), { limit: 2, cursor: first.nextCursor });
      assert.deepEqual(
        second.items.map((i) => i.key),
        [k("list/c"), k("list/d/e")],
      );
      const all = await blobs.list(k("list/"));
      assert.equal(all.items.length, 4);
      assert.equal(all.nextCursor, null);
      assert.equal(all.items[0]?.sha256.length, 64);
      assert.deepEqual((await blobs.list(k("nothing-here/"))).items, []);
    });

    it("rejects keys that could escape the store or mean two things", async () => {
      for (const bad of ["../etc/passwd", "a/../../b", "/abs", "a//b", "a/./b", "a\\b", "nul\u0000", "", "sp ace"]) {
        await assert.rejects(
          blobs.put(bad, "x"),
          (e: unknown) => e instanceof AppError && e.code === "invalid_blob_key",
          bad,
        );
        await assert.rejects(
          blobs.head(bad),
          (e: unknown) => e instanceof AppError && e.code === "invalid_blob_key",
          bad,
        );
      }
      await assert.rejects(blobs.list("../"), (e: unknown) => e instanceof AppError && e.code === "invalid_blob_key");
    });

    it("signs download URLs that serve the content", async () => {
      await blobs.put(k("signed/file.txt"), "signed content", { contentType: "text/plain" });
      const url = await blobs.signedUrl(k("signed/file.txt"), { expiresInSeconds: 60, downloadName: "file.txt" });
      assert.match(url, /^https?:\/\//);
      const res = await fetchSigned(url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "signed content");
    });

    it(
      "refuses a download URL whose signature was tampered with",
      options.acceptsForgedSignatures ? { skip: options.acceptsForgedSignatures } : {},
      async () => {
        await blobs.put(k("signed/checked.txt"), "checked content", { contentType: "text/plain" });
        const url = await blobs.signedUrl(k("signed/checked.txt"), { expiresInSeconds: 60 });
        const tampered = url.replace(
          /([?&](?:signature|X-Amz-Signature)=)(.)/,
          (_m, param: string, first: string) => param + (first === "A" ? "B" : "A"),
        );
        assert.notEqual(tampered, url);
        assert.equal((await fetchSigned(tampered)).status, 403);
        assert.equal((await fetchSigned(url)).status, 200, "the genuine link still works");
      },
    );

    it("refuses a download URL once it has expired", async () => {
      await blobs.put(k("signed/expiring.txt"), "expiring content", { contentType: "text/plain" });
      const shortLived = await blobs.signedUrl(k("signed/expiring.txt"), { expiresInSeconds: 1 });
      const longer = await blobs.signedUrl(k("signed/expiring.txt"), { expiresInSeconds: 60 });
      assert.equal((await fetchSigned(shortLived)).status, 200, "good until it expires");
      await options.passTime(2_100);
      assert.ok([403, 410].includes((await fetchSigned(shortLived)).status), "expired link refused");
      assert.equal((await fetchSigned(longer)).status, 200, "a link with time left still works");
    });

    it("pings", async () => {
      assert.ok((await blobs.ping()) >= 0);
    });
  });
}

function* chunks(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(stream: Readable): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of stream) out.push(chunk as Buffer);
  return out;
}

async function text(stream: Readable): Promise<string> {
  return Buffer.concat(await collect(stream)).toString();
}
