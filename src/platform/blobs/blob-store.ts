import { Readable } from "node:stream";

/**
 * The blob layer: content lives here, metadata in Postgres (seed 000's
 * S3 + Postgres split). Two implementations pass one contract suite:
 * FsBlobStore (embedded) and S3BlobStore.
 *
 * Keys are slash-separated paths such as `documents/<id>/v3.txt`; see
 * blob-keys.ts for what is allowed. Writes are atomic: a reader sees the old
 * content or the new, never a partial object.
 */

export type BlobBody = Buffer | Uint8Array | string | Readable;

export interface BlobInfo {
  key: string;
  size: number;
  contentType: string;
  /** Hex SHA-256 of the content, computed by Strata on write. */
  sha256: string;
  lastModified: Date;
  metadata: Record<string, string>;
}

export interface PutOptions {
  contentType?: string;
  /** Small string pairs stored with the object (S3 user metadata). */
  metadata?: Record<string, string>;
  /**
   * "durable" (the default): once put resolves, the object survives a crash
   * or power loss. "cache": the object is a derived copy its owner can
   * rebuild (and checks before trusting), so the filesystem store skips the
   * fsync; after a power loss it may be missing or older, never partial. The
   * S3 store ignores it (every put is durable). Never for an only copy.
   */
  durability?: "durable" | "cache";
}

export interface SignedUrlOptions {
  expiresInSeconds: number;
  /** Suggests a file name to the browser (Content-Disposition: attachment). */
  downloadName?: string;
}

export interface BlobPage {
  items: BlobInfo[];
  nextCursor: string | null;
}

export interface BlobStore {
  readonly driver: "fs" | "s3";
  put(key: string, body: BlobBody, options?: PutOptions): Promise<BlobInfo>;
  /** Streams the content; throws BlobNotFoundError when the key does not exist. */
  get(key: string): Promise<{ info: BlobInfo; body: Readable }>;
  head(key: string): Promise<BlobInfo | null>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  copy(fromKey: string, toKey: string): Promise<BlobInfo>;
  /** Keys under `prefix` in ascending order, a page at a time. */
  list(prefix: string, options?: { limit?: number; cursor?: string }): Promise<BlobPage>;
  /** A URL anyone holding it may GET until it expires. */
  signedUrl(key: string, options: SignedUrlOptions): Promise<string>;
  ping(): Promise<number>;
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no blob at ${key}`);
    this.name = "BlobNotFoundError";
  }
}

export class BlobUnavailableError extends Error {
  constructor(cause: unknown) {
    super("the blob store is unavailable", { cause });
    this.name = "BlobUnavailableError";
  }
}

export const DEFAULT_CONTENT_TYPE = "application/octet-stream";
export const MAX_LIST_LIMIT = 1000;

/** Clamps a caller's page size to 1..MAX_LIST_LIMIT. */
export function listLimit(limit: number | undefined): number {
  return Math.min(Math.max(1, limit ?? MAX_LIST_LIMIT), MAX_LIST_LIMIT);
}

export function toReadable(body: BlobBody): Readable {
  if (body instanceof Readable) return body;
  return Readable.from([typeof body === "string" ? Buffer.from(body) : Buffer.from(body)]);
}
