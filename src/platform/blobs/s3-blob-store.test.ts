import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import S3rver from "s3rver";
import { blobStoreContract } from "../../../test/contract/blob-store.contract.ts";
import { S3BlobStore } from "./s3-blob-store.ts";

// A real S3-protocol server (s3rver) on a loopback port: the AWS SDK speaks
// the same wire protocol to it as to S3 or MinIO. s3rver encrypts its list
// continuation tokens with DES, which Node's OpenSSL 3 only offers with
// --openssl-legacy-provider; the test runner passes that flag.
let server: S3rver;
let directory: string;
let endpoint = "";

before(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "strata-s3-"));
  server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: "strata-test", configs: [] }],
  });
  const address = (await server.run()) as AddressInfo;
  endpoint = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

blobStoreContract("s3 (s3rver)", () =>
  S3BlobStore.open({
    driver: "s3",
    bucket: "strata-test",
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  }),
  { verifiesSignatures: false },
);
