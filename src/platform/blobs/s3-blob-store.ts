import { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { BlobConfig } from "../../config/config.ts";
import { validateBlobKey, validateBlobPrefix } from "./blob-keys.ts";
import {
  type BlobBody,
  type BlobInfo,
  BlobNotFoundError,
  type BlobPage,
  type BlobStore,
  BlobUnavailableError,
  DEFAULT_CONTENT_TYPE,
  listLimit,
  type PutOptions,
  type SignedUrlOptions,
  toReadable,
} from "./blob-store.ts";
import { contentDigest } from "./content-digest.ts";

/** Strata's checksum travels as S3 user metadata under this name. */
const SHA_META = "strata-sha256";

/**
 * The server profile's blob store, over any S3-compatible service. Uploads go
 * through lib-storage, which streams bodies of unknown length as multipart
 * uploads; S3 makes each upload visible atomically once complete.
 */
export class S3BlobStore implements BlobStore {
  readonly driver = "s3";

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  static async open(config: Extract<BlobConfig, { driver: "s3" }>): Promise<S3BlobStore> {
    const client = new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      // A copy: the SDK annotates the credentials object, and config is frozen.
      ...(config.credentials ? { credentials: { ...config.credentials } } : {}),
      // Checksums only where the API requires them: not every S3-compatible
      // server understands the newer trailing-checksum encoding, and Strata
      // keeps its own SHA-256 of every blob anyway.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
    });
    const store = new S3BlobStore(client, config.bucket);
    await store.ping().catch((error) => {
      client.destroy();
      throw new BlobUnavailableError(error);
    });
    return store;
  }

  async put(key: string, body: BlobBody, options: PutOptions = {}): Promise<BlobInfo> {
    validateBlobKey(key);
    const digest = contentDigest();
    const counted = toReadable(body).pipe(digest.stream);
    // The checksum is only known once the body has streamed, but S3 metadata is
    // sent up front; so a buffered body is hashed first, a stream afterwards
    // with a metadata-only self-copy.
    const buffered = body instanceof Readable ? null : await streamToBuffer(counted);
    const sha256 = buffered ? digest.sha256() : null;
    const contentType = options.contentType ?? DEFAULT_CONTENT_TYPE;
    await this.#send(() =>
      new Upload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key: key,
          Body: buffered ?? counted,
          ContentType: contentType,
          Metadata: { ...options.metadata, ...(sha256 ? { [SHA_META]: sha256 } : {}) },
        },
      }).done(),
    );
    if (!sha256) {
      await this.#send(() =>
        this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: key,
            CopySource: copySource(this.bucket, key),
            MetadataDirective: "REPLACE",
            ContentType: contentType,
            Metadata: { ...options.metadata, [SHA_META]: digest.sha256() },
          }),
        ),
      );
    }
    const info = await this.head(key);
    if (!info || info.size !== digest.size)
      throw new BlobUnavailableError(new Error(`upload of ${key} did not complete`));
    return info;
  }

  async get(key: string): Promise<{ info: BlobInfo; body: Readable }> {
    validateBlobKey(key);
    const out = await this.#send(() => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })), key);
    const info = toInfo(key, out);
    return { info, body: out.Body as Readable };
  }

  async head(key: string): Promise<BlobInfo | null> {
    validateBlobKey(key);
    try {
      const out = await this.#send(
        () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
        key,
      );
      return toInfo(key, out);
    } catch (error) {
      if (error instanceof BlobNotFoundError) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    validateBlobKey(key);
    await this.#send(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  async copy(fromKey: string, toKey: string): Promise<BlobInfo> {
    validateBlobKey(fromKey);
    validateBlobKey(toKey);
    await this.#send(
      () =>
        this.client.send(
          new CopyObjectCommand({
            Bucket: this.bucket,
            Key: toKey,
            CopySource: copySource(this.bucket, fromKey),
            MetadataDirective: "COPY",
          }),
        ),
      fromKey,
    );
    const info = await this.head(toKey);
    if (!info) throw new BlobNotFoundError(toKey);
    return info;
  }

  async list(prefix: string, options: { limit?: number; cursor?: string } = {}): Promise<BlobPage> {
    validateBlobPrefix(prefix);
    const limit = listLimit(options.limit);
    const out = await this.#send(() =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: limit,
          ...(options.cursor ? { StartAfter: options.cursor } : {}),
        }),
      ),
    );
    // Listings carry no user metadata; one HEAD per item fills in the checksum.
    const items: BlobInfo[] = [];
    for (const object of out.Contents ?? []) {
      const info = object.Key ? await this.head(object.Key) : null;
      if (info) items.push(info);
    }
    return { items, nextCursor: out.IsTruncated ? (items.at(-1)?.key ?? null) : null };
  }

  async signedUrl(key: string, options: SignedUrlOptions): Promise<string> {
    validateBlobKey(key);
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ...(options.downloadName
        ? { ResponseContentDisposition: `attachment; filename="${options.downloadName.replace(/["\\]/g, "_")}"` }
        : {}),
    });
    return getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds });
  }

  async ping(): Promise<number> {
    const started = performance.now();
    await this.#send(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
    return performance.now() - started;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Sends one request, turning "no such key" into BlobNotFoundError and transport failures into BlobUnavailableError. */
  async #send<T>(request: () => Promise<T>, key?: string): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (key && (error instanceof NoSuchKey || error instanceof NotFound || httpStatus(error) === 404)) {
        throw new BlobNotFoundError(key);
      }
      if (error instanceof S3ServiceException && (httpStatus(error) ?? 500) < 500) throw error;
      throw new BlobUnavailableError(error);
    }
  }
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

function toInfo(
  key: string,
  out: { ContentLength?: number; ContentType?: string; LastModified?: Date; Metadata?: Record<string, string> },
): BlobInfo {
  const { [SHA_META]: sha256 = "", ...metadata } = out.Metadata ?? {};
  return {
    key,
    size: out.ContentLength ?? 0,
    contentType: out.ContentType ?? DEFAULT_CONTENT_TYPE,
    sha256,
    lastModified: out.LastModified ?? new Date(0),
    metadata,
  };
}

async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
