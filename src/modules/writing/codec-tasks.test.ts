import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { ComputePool } from "../../platform/compute/compute-pool.ts";
import { CODEC_INLINE_MAX_BYTES, encodeObjectTask, restoreChainTask } from "./codec-tasks.ts";
import { decodeObject, type EncodedObject, sha256Hex } from "./object-codec.ts";

/** Random words (some in other scripts), so the content does not compress away. */
function text(bytes: number): Buffer {
  const alphabet = "abcdefghijklmnopqrstuvwxyzéü文書歴史 ";
  const picks = randomBytes(bytes);
  let out = "";
  for (const b of picks) out += alphabet[b % alphabet.length];
  return Buffer.from(out, "utf8").subarray(0, bytes);
}

describe("content-object coding on the compute pool", () => {
  it("codes ordinary documents inline and large ones on a worker thread, byte for byte", async () => {
    const pool = new ComputePool({ maxThreads: 1 });
    try {
      const small = text(8_000);
      const smallEdit = Buffer.concat([small, Buffer.from(" an edit")]);
      const inline = await pool.run(encodeObjectTask, { content: smallEdit, bases: [small] });
      assert.equal(pool.stats().completed.pool, 0, "a small document never leaves the event loop's thread");
      assert.equal(inline.kind, "delta");

      const big = text(CODEC_INLINE_MAX_BYTES * 2);
      const bigEdit = Buffer.concat([big.subarray(0, 100_000), Buffer.from(" inserted "), big.subarray(100_000)]);
      const keyframe = await pool.run(encodeObjectTask, { content: big, bases: [] });
      const delta = await pool.run(encodeObjectTask, { content: bigEdit, bases: [big] });
      assert.equal(pool.stats().completed.pool, 2, "large documents are encoded on the pool");
      assert.equal(delta.kind, "delta");
      assert.ok(delta.body.byteLength < 2_000, "a small edit of a large document stays a small delta");
      // What came back across the thread boundary decodes to the exact bytes.
      const decoded = await decodeObject({ kind: "delta", body: Buffer.from(delta.body) }, big);
      assert.equal(sha256Hex(decoded), sha256Hex(bigEdit));

      const chain: EncodedObject[] = [
        { kind: "keyframe", body: Buffer.from(keyframe.body) },
        { kind: "delta", body: Buffer.from(delta.body) },
      ];
      const restored = await pool.run(restoreChainTask, { start: null, objects: chain });
      assert.equal(pool.stats().completed.pool, 3, "a chain under a large keyframe is restored on the pool");
      assert.equal(sha256Hex(restored), sha256Hex(bigEdit));
    } finally {
      await pool.close();
    }
  });
});
