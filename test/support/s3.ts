import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import S3rver from "s3rver";

/**
 * A real S3-protocol server (s3rver, from npm) on a loopback port, with one
 * bucket. The AWS SDK speaks the same wire protocol to it as to S3 or MinIO.
 * s3rver encrypts list continuation tokens with DES, which Node's OpenSSL 3
 * offers only with --openssl-legacy-provider: the test runner passes it.
 * s3rver does not check V4 signatures, so forged-link checks need real S3.
 */
export async function startS3Server(bucket = "strata-test") {
  const directory = await mkdtemp(path.join(tmpdir(), "strata-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    env: {
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
    },
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
