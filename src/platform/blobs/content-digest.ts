import { createHash } from "node:crypto";
import { Transform } from "node:stream";

/**
 * A pass-through stream that measures what flows through it: byte count and
 * SHA-256. Both stores pipe every upload through one, so the checksum Strata
 * records is always of the bytes actually stored.
 */
export function contentDigest() {
  const hash = createHash("sha256");
  let size = 0;
  let sha256: string | null = null;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return {
    stream,
    get size() {
      return size;
    },
    /** The hex digest; call once the stream has ended. */
    sha256() {
      sha256 ??= hash.digest("hex");
      return sha256;
    },
  };
}
